// The dashboard page's files, compiled into the program at build time
// (cmake/EmbedFiles.cmake, from web/ and the uPlot package installed there by npm).
#pragma once

#include <cstddef>
#include <span>

namespace benchtop {

struct WebAsset {
    const char* path;          // URL path, e.g. "/static/app.js"
    const char* content_type;
    const unsigned char* data;
    size_t size;
};

std::span<const WebAsset> web_assets();

}  // namespace benchtop
