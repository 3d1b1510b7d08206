# benchtop_warnings(target): the warning set of the project; errors when BENCHTOP_WERROR=ON.
function(benchtop_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wno-missing-field-initializers)
  if(BENCHTOP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
