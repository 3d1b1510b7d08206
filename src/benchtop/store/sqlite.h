// A thin RAII layer over the SQLite C API, written for the results store: Db (one connection),
// Stmt (a prepared statement with bind/step/column helpers) and Transaction (BEGIN ... COMMIT,
// rolled back when the guard is left without commit, e.g. by an exception). Every SQLite error
// becomes a benchtop::Error carrying the database file name, SQLite's message and the SQL text.
// sqlite3.h stays out of this header so that users of the store do not see the C API.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace benchtop::sql {

class Stmt {
public:
    // Prepares `sql` (one statement) on `db`; `file` names the database in error messages.
    Stmt(sqlite3* db, std::string_view sql, const std::string& file);
    Stmt(Stmt&&) noexcept = default;
    Stmt& operator=(Stmt&&) noexcept = default;
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    // bind(i, v) sets the 1-based parameter i; std::nullopt and nullptr bind NULL.
    Stmt& bind(int index, int value);
    Stmt& bind(int index, int64_t value);
    Stmt& bind(int index, double value);
    Stmt& bind(int index, std::string_view value);
    Stmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Stmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Stmt& bind(int index, std::nullptr_t);
    template <class T>
    Stmt& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, nullptr);
    }
    // bind_all(a, b, c) binds parameters 1, 2, 3.
    template <class... Args>
    Stmt& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // Steps once: true when a row is available, false when the statement is done.
    bool step();
    // Steps a statement that returns no rows (INSERT/UPDATE/DELETE) to completion and resets it
    // so that it can be bound and run again.
    void run();
    // Makes the statement ready to run again; bindings are kept until rebound.
    void reset();

    bool is_null(int column) const;
    int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;  // NULL -> ""
    std::optional<int64_t> opt_int64(int column) const;
    std::optional<double> opt_real(int column) const;

private:
    [[noreturn]] void fail_sqlite(int rc) const;
    struct Finalize {
        void operator()(sqlite3_stmt* s) const noexcept;
    };
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
    std::string file_;
};

class Db {
public:
    enum class Open { ReadWriteCreate, ReadOnly };
    Db() = default;
    // ReadWriteCreate opens `filename` as a plain file name, creating it when missing.
    // ReadOnly opens it through a "file:...?mode=ro" URI (the name is percent-encoded) and fails
    // when the file is missing. Extended result codes are enabled.
    Db(const std::string& filename, Open mode);
    Db(Db&&) noexcept = default;
    Db& operator=(Db&&) noexcept = default;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    explicit operator bool() const { return db_ != nullptr; }
    sqlite3* handle() const { return db_.get(); }
    const std::string& filename() const { return filename_; }

    // Runs one or more statements that return nothing of interest.
    void exec(std::string_view sql) const;
    Stmt prepare(std::string_view sql) const;
    void set_busy_timeout_ms(int ms) const;
    int64_t last_insert_rowid() const;
    int changes() const;  // rows changed by the most recent INSERT/UPDATE/DELETE
    bool in_transaction() const;

private:
    struct Close {
        void operator()(sqlite3* db) const noexcept;
    };
    std::unique_ptr<sqlite3, Close> db_;
    std::string filename_;
};

// BEGIN on construction; commit() commits; the destructor rolls back an uncommitted transaction
// (an exception thrown between the two leaves the database as it was). Not nestable.
class Transaction {
public:
    enum class Kind { Deferred, Immediate };
    explicit Transaction(const Db& db, Kind kind = Kind::Immediate);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    const Db* db_;
    bool done_ = false;
};

// "file:" URI for `path` with every byte outside [A-Za-z0-9/._~-] percent-encoded.
std::string file_uri(const std::string& path, std::string_view query);

}  // namespace benchtop::sql
