#ifndef SYSTEM_SQLITE_SHIM_H
#define SYSTEM_SQLITE_SHIM_H

#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast macro that Swift cannot import. */
static inline sqlite3_destructor_type system_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/* sqlite3_db_config is variadic, which Swift cannot call: the (int, int*) form used by the
   boolean SQLITE_DBCONFIG_* options. */
static inline int system_sqlite_db_config_flag(sqlite3 *db, int option, int value, int *current) {
    return sqlite3_db_config(db, option, value, current);
}

#endif
