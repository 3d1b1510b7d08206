#include "benchtop/store/sqlite.h"

#include <sqlite3.h>

#include <limits>

#include "benchtop/core/error.h"

namespace benchtop::sql {
namespace {

std::string abbreviated(std::string_view sql) {
    constexpr size_t kMax = 120;
    std::string s(sql.substr(0, kMax));
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (sql.size() > kMax) s += "...";
    return s;
}

[[noreturn]] void fail_db(sqlite3* db, int rc, const std::string& file, std::string_view sql) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (sql.empty()) fail(file, ": SQLite error: ", msg);
    fail(file, ": SQLite error: ", msg, " [in: ", abbreviated(sql), "]");
}

}  // namespace

// ---- Stmt ----

void Stmt::Finalize::operator()(sqlite3_stmt* s) const noexcept {
    sqlite3_finalize(s);
}

Stmt::Stmt(sqlite3* db, std::string_view sql, const std::string& file) : file_(file) {
    BENCHTOP_CHECK(db != nullptr, file, ": statement prepared on a closed database");
    BENCHTOP_CHECK(sql.size() < static_cast<size_t>(std::numeric_limits<int>::max()),
                   "SQL too long");
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    stmt_.reset(raw);
    if (rc != SQLITE_OK) fail_db(db, rc, file_, sql);
    BENCHTOP_CHECK(raw != nullptr, file_, ": empty SQL statement");
    std::string_view rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
    BENCHTOP_CHECK(rest.find_first_not_of(" \t\r\n;") == std::string_view::npos, file_,
                   ": more than one SQL statement given to prepare: ", abbreviated(sql));
}

void Stmt::fail_sqlite(int rc) const {
    sqlite3_stmt* s = stmt_.get();
    fail_db(sqlite3_db_handle(s), rc, file_, sqlite3_sql(s));
}

Stmt& Stmt::bind(int index, int value) {
    return bind(index, static_cast<int64_t>(value));
}

Stmt& Stmt::bind(int index, int64_t value) {
    int rc = sqlite3_bind_int64(stmt_.get(), index, value);
    if (rc != SQLITE_OK) fail_sqlite(rc);
    return *this;
}

Stmt& Stmt::bind(int index, double value) {
    int rc = sqlite3_bind_double(stmt_.get(), index, value);
    if (rc != SQLITE_OK) fail_sqlite(rc);
    return *this;
}

Stmt& Stmt::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8);
    if (rc != SQLITE_OK) fail_sqlite(rc);
    return *this;
}

Stmt& Stmt::bind(int index, std::nullptr_t) {
    int rc = sqlite3_bind_null(stmt_.get(), index);
    if (rc != SQLITE_OK) fail_sqlite(rc);
    return *this;
}

bool Stmt::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // The error message belongs to the connection; read it before reset() can change it.
    sqlite3_stmt* s = stmt_.get();
    std::string msg = sqlite3_errmsg(sqlite3_db_handle(s));
    std::string text = abbreviated(sqlite3_sql(s));
    sqlite3_reset(s);
    fail(file_, ": SQLite error: ", msg, " [in: ", text, "]");
}

void Stmt::run() {
    while (step()) {
    }
    reset();
}

void Stmt::reset() {
    sqlite3_reset(stmt_.get());
}

bool Stmt::is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

int64_t Stmt::int64(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

double Stmt::real(int column) const {
    return sqlite3_column_double(stmt_.get(), column);
}

std::string Stmt::text(int column) const {
    const unsigned char* p = sqlite3_column_text(stmt_.get(), column);
    if (p == nullptr) return {};
    int n = sqlite3_column_bytes(stmt_.get(), column);
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
}

std::optional<int64_t> Stmt::opt_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::optional<double> Stmt::opt_real(int column) const {
    if (is_null(column)) return std::nullopt;
    return real(column);
}

// ---- Db ----

void Db::Close::operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
}

Db::Db(const std::string& filename, Open mode) : filename_(filename) {
    sqlite3* raw = nullptr;
    int rc;
    if (mode == Open::ReadOnly) {
        rc = sqlite3_open_v2(file_uri(filename, "mode=ro").c_str(), &raw,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    } else {
        rc = sqlite3_open_v2(filename.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             nullptr);
    }
    db_.reset(raw);  // sqlite3_open_v2 may return a handle even on failure; it must be closed
    if (rc != SQLITE_OK) {
        std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        fail(filename, ": cannot open database: ", msg);
    }
    sqlite3_extended_result_codes(raw, 1);
}

void Db::exec(std::string_view sql) const {
    std::string owned(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), owned.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        fail(filename_, ": SQLite error: ", msg, " [in: ", abbreviated(sql), "]");
    }
}

Stmt Db::prepare(std::string_view sql) const {
    return Stmt(db_.get(), sql, filename_);
}

void Db::set_busy_timeout_ms(int ms) const {
    sqlite3_busy_timeout(db_.get(), ms);
}

int64_t Db::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}

int Db::changes() const {
    return sqlite3_changes(db_.get());
}

bool Db::in_transaction() const {
    return db_ && sqlite3_get_autocommit(db_.get()) == 0;
}

// ---- Transaction ----

Transaction::Transaction(const Db& db, Kind kind) : db_(&db) {
    db.exec(kind == Kind::Immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
    // SQLite rolls some failed transactions back by itself (e.g. on SQLITE_FULL); only roll back
    // what is still open. Errors here cannot be reported (we may be unwinding).
    if (!done_ && db_->in_transaction())
        sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    BENCHTOP_CHECK(!done_, db_->filename(), ": transaction committed twice");
    db_->exec("COMMIT");
    done_ = true;
}

std::string file_uri(const std::string& path, std::string_view query) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    // An absolute path gets an empty authority ("file:///abs"), so "//x" cannot be read as a host.
    std::string uri = path.starts_with('/') ? "file://" : "file:";
    for (unsigned char c : path) {
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '/' || c == '.' || c == '_' || c == '~' || c == '-';
        if (plain) {
            uri += static_cast<char>(c);
        } else {
            uri += '%';
            uri += kHex[c >> 4];
            uri += kHex[c & 15];
        }
    }
    if (!query.empty()) {
        uri += '?';
        uri += query;
    }
    return uri;
}

}  // namespace benchtop::sql
