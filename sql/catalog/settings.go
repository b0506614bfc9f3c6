package catalog

import "strings"

// Setting is one run-time parameter as pg_settings and SHOW present it.
type Setting struct {
	Name      string // canonical spelling, e.g. "DateStyle"
	Setting   string // default value
	Unit      string
	Category  string
	ShortDesc string
	Context   string // internal, postmaster, sighup, superuser, user
	VarType   string // bool, integer, real, string, enum
	MinVal    string
	MaxVal    string
	EnumVals  []string
	// NoShowAll hides the parameter from pg_settings and SHOW ALL (it can
	// still be read by name), as PostgreSQL does for is_superuser and
	// session_authorization.
	NoShowAll bool
}

// Settings returns the parameters Longboat reports, with their defaults,
// sorted case-insensitively by name. Values mirror a PostgreSQL 15 server
// initialised with --locale=C --encoding=UTF8, except server_version
// ("15.0"), server_version_num ("150000") and TimeZone ("UTC").
func Settings() []Setting {
	return []Setting{
		{Name: "application_name", Setting: "", Category: "Reporting and Logging / What to Log", ShortDesc: "Sets the application name to be reported in statistics and logs.", Context: "user", VarType: "string"},
		{Name: "array_nulls", Setting: "on", Category: "Version and Platform Compatibility / Previous PostgreSQL Versions", ShortDesc: "Enable input of NULL elements in arrays.", Context: "user", VarType: "bool"},
		{Name: "backslash_quote", Setting: "safe_encoding", Category: "Version and Platform Compatibility / Previous PostgreSQL Versions", ShortDesc: "Sets whether \"\\'\" is allowed in string literals.", Context: "user", VarType: "enum", EnumVals: []string{"safe_encoding", "on", "off"}},
		{Name: "block_size", Setting: "8192", Category: "Preset Options", ShortDesc: "Shows the size of a disk block.", Context: "internal", VarType: "integer", MinVal: "8192", MaxVal: "8192"},
		{Name: "bytea_output", Setting: "hex", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the output format for bytea.", Context: "user", VarType: "enum", EnumVals: []string{"escape", "hex"}},
		{Name: "client_encoding", Setting: "UTF8", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the client's character set encoding.", Context: "user", VarType: "string"},
		{Name: "client_min_messages", Setting: "notice", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the message levels that are sent to the client.", Context: "user", VarType: "enum", EnumVals: []string{"debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error"}},
		{Name: "cluster_name", Setting: "longboat", Category: "Reporting and Logging / Process Title", ShortDesc: "Sets the name of the cluster, which is included in the process title.", Context: "postmaster", VarType: "string"},
		{Name: "data_checksums", Setting: "off", Category: "Preset Options", ShortDesc: "Shows whether data checksums are turned on for this cluster.", Context: "internal", VarType: "bool"},
		{Name: "DateStyle", Setting: "ISO, MDY", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the display format for date and time values.", Context: "user", VarType: "string"},
		{Name: "default_tablespace", Setting: "", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the default tablespace to create tables and indexes in.", Context: "user", VarType: "string"},
		{Name: "default_text_search_config", Setting: "pg_catalog.english", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets default text search configuration.", Context: "user", VarType: "string"},
		{Name: "default_transaction_deferrable", Setting: "off", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the default deferrable status of new transactions.", Context: "user", VarType: "bool"},
		{Name: "default_transaction_isolation", Setting: "read committed", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the transaction isolation level of each new transaction.", Context: "user", VarType: "enum", EnumVals: []string{"serializable", "repeatable read", "read committed", "read uncommitted"}},
		{Name: "default_transaction_read_only", Setting: "off", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the default read-only status of new transactions.", Context: "user", VarType: "bool"},
		{Name: "escape_string_warning", Setting: "on", Category: "Version and Platform Compatibility / Previous PostgreSQL Versions", ShortDesc: "Warn about backslash escapes in ordinary string literals.", Context: "user", VarType: "bool"},
		{Name: "extra_float_digits", Setting: "1", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the number of digits displayed for floating-point values.", Context: "user", VarType: "integer", MinVal: "-15", MaxVal: "3"},
		{Name: "idle_in_transaction_session_timeout", Setting: "0", Unit: "ms", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the maximum allowed idle time between queries, when in a transaction.", Context: "user", VarType: "integer", MinVal: "0", MaxVal: "2147483647"},
		{Name: "in_hot_standby", Setting: "off", Category: "Preset Options", ShortDesc: "Shows whether hot standby is currently active.", Context: "internal", VarType: "bool"},
		{Name: "integer_datetimes", Setting: "on", Category: "Preset Options", ShortDesc: "Shows whether datetimes are integer based.", Context: "internal", VarType: "bool"},
		{Name: "IntervalStyle", Setting: "postgres", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the display format for interval values.", Context: "user", VarType: "enum", EnumVals: []string{"postgres", "postgres_verbose", "sql_standard", "iso_8601"}},
		{Name: "is_superuser", Setting: "on", Category: "Preset Options", ShortDesc: "Shows whether the current user is a superuser.", Context: "internal", VarType: "bool", NoShowAll: true},
		{Name: "jit", Setting: "off", Category: "Query Tuning / Other Planner Options", ShortDesc: "Allow JIT compilation.", Context: "user", VarType: "bool"},
		{Name: "lc_collate", Setting: "C", Category: "Preset Options", ShortDesc: "Shows the collation order locale.", Context: "internal", VarType: "string"},
		{Name: "lc_ctype", Setting: "C", Category: "Preset Options", ShortDesc: "Shows the character classification and case conversion locale.", Context: "internal", VarType: "string"},
		{Name: "lc_messages", Setting: "C", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the language in which messages are displayed.", Context: "superuser", VarType: "string"},
		{Name: "lc_monetary", Setting: "C", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the locale for formatting monetary amounts.", Context: "user", VarType: "string"},
		{Name: "lc_numeric", Setting: "C", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the locale for formatting numbers.", Context: "user", VarType: "string"},
		{Name: "lc_time", Setting: "C", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the locale for formatting date and time values.", Context: "user", VarType: "string"},
		{Name: "listen_addresses", Setting: "*", Category: "Connections and Authentication / Connection Settings", ShortDesc: "Sets the host name or IP address(es) to listen to.", Context: "postmaster", VarType: "string"},
		{Name: "lock_timeout", Setting: "0", Unit: "ms", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the maximum allowed duration of any wait for a lock.", Context: "user", VarType: "integer", MinVal: "0", MaxVal: "2147483647"},
		{Name: "log_timezone", Setting: "UTC", Category: "Reporting and Logging / What to Log", ShortDesc: "Sets the time zone to use in log messages.", Context: "sighup", VarType: "string"},
		{Name: "max_connections", Setting: "1000", Category: "Connections and Authentication / Connection Settings", ShortDesc: "Sets the maximum number of concurrent connections.", Context: "postmaster", VarType: "integer", MinVal: "1", MaxVal: "262143"},
		{Name: "max_function_args", Setting: "100", Category: "Preset Options", ShortDesc: "Shows the maximum number of function arguments.", Context: "internal", VarType: "integer", MinVal: "100", MaxVal: "100"},
		{Name: "max_identifier_length", Setting: "63", Category: "Preset Options", ShortDesc: "Shows the maximum identifier length.", Context: "internal", VarType: "integer", MinVal: "63", MaxVal: "63"},
		{Name: "max_index_keys", Setting: "32", Category: "Preset Options", ShortDesc: "Shows the maximum number of index keys.", Context: "internal", VarType: "integer", MinVal: "32", MaxVal: "32"},
		{Name: "max_wal_senders", Setting: "10", Category: "Replication / Sending Servers", ShortDesc: "Sets the maximum number of simultaneously running WAL sender processes.", Context: "postmaster", VarType: "integer", MinVal: "0", MaxVal: "262143"},
		{Name: "password_encryption", Setting: "scram-sha-256", Category: "Connections and Authentication / Authentication", ShortDesc: "Chooses the algorithm for encrypting passwords.", Context: "user", VarType: "enum", EnumVals: []string{"md5", "scram-sha-256"}},
		{Name: "port", Setting: "5432", Category: "Connections and Authentication / Connection Settings", ShortDesc: "Sets the TCP port the server listens on.", Context: "postmaster", VarType: "integer", MinVal: "1", MaxVal: "65535"},
		{Name: "row_security", Setting: "on", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Enable row security.", Context: "user", VarType: "bool"},
		{Name: "search_path", Setting: "\"$user\", public", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the schema search order for names that are not schema-qualified.", Context: "user", VarType: "string"},
		{Name: "segment_size", Setting: "131072", Unit: "8kB", Category: "Preset Options", ShortDesc: "Shows the number of pages per disk file.", Context: "internal", VarType: "integer", MinVal: "131072", MaxVal: "131072"},
		{Name: "server_encoding", Setting: "UTF8", Category: "Preset Options", ShortDesc: "Shows the server (database) character set encoding.", Context: "internal", VarType: "string"},
		{Name: "server_version", Setting: "15.0", Category: "Preset Options", ShortDesc: "Shows the server version.", Context: "internal", VarType: "string"},
		{Name: "server_version_num", Setting: "150000", Category: "Preset Options", ShortDesc: "Shows the server version as an integer.", Context: "internal", VarType: "integer", MinVal: "150018", MaxVal: "150018"},
		{Name: "session_authorization", Setting: "", Category: "Preset Options", ShortDesc: "Sets the session user name.", Context: "user", VarType: "string", NoShowAll: true},
		{Name: "session_replication_role", Setting: "origin", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the session's behavior for triggers and rewrite rules.", Context: "superuser", VarType: "enum", EnumVals: []string{"origin", "replica", "local"}},
		{Name: "shared_buffers", Setting: "16384", Unit: "8kB", Category: "Resource Usage / Memory", ShortDesc: "Sets the number of shared memory buffers used by the server.", Context: "postmaster", VarType: "integer", MinVal: "16", MaxVal: "1073741823"},
		{Name: "ssl", Setting: "off", Category: "Connections and Authentication / SSL", ShortDesc: "Enables SSL connections.", Context: "sighup", VarType: "bool"},
		{Name: "standard_conforming_strings", Setting: "on", Category: "Version and Platform Compatibility / Previous PostgreSQL Versions", ShortDesc: "Causes '...' strings to treat backslashes literally.", Context: "user", VarType: "bool"},
		{Name: "statement_timeout", Setting: "0", Unit: "ms", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the maximum allowed duration of any statement.", Context: "user", VarType: "integer", MinVal: "0", MaxVal: "2147483647"},
		{Name: "synchronous_commit", Setting: "on", Category: "Write-Ahead Log / Settings", ShortDesc: "Sets the current transaction's synchronization level.", Context: "user", VarType: "enum", EnumVals: []string{"local", "remote_write", "remote_apply", "on", "off"}},
		{Name: "tcp_keepalives_idle", Setting: "7200", Unit: "s", Category: "Connections and Authentication / Connection Settings", ShortDesc: "Time between issuing TCP keepalives.", Context: "user", VarType: "integer", MinVal: "0", MaxVal: "2147483647"},
		{Name: "TimeZone", Setting: "UTC", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Sets the time zone for displaying and interpreting time stamps.", Context: "user", VarType: "string"},
		{Name: "timezone_abbreviations", Setting: "Default", Category: "Client Connection Defaults / Locale and Formatting", ShortDesc: "Selects a file of time zone abbreviations.", Context: "user", VarType: "string"},
		{Name: "track_activities", Setting: "on", Category: "Statistics / Cumulative Query and Index Statistics", ShortDesc: "Collects information about executing commands.", Context: "superuser", VarType: "bool"},
		{Name: "transaction_isolation", Setting: "read committed", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the current transaction's isolation level.", Context: "user", VarType: "enum", EnumVals: []string{"serializable", "repeatable read", "read committed", "read uncommitted"}},
		{Name: "transaction_read_only", Setting: "off", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets the current transaction's read-only status.", Context: "user", VarType: "bool"},
		{Name: "wal_block_size", Setting: "8192", Category: "Preset Options", ShortDesc: "Shows the block size in the write ahead log.", Context: "internal", VarType: "integer", MinVal: "8192", MaxVal: "8192"},
		{Name: "wal_level", Setting: "replica", Category: "Write-Ahead Log / Settings", ShortDesc: "Sets the level of information written to the WAL.", Context: "postmaster", VarType: "enum", EnumVals: []string{"minimal", "replica", "logical"}},
		{Name: "work_mem", Setting: "4096", Unit: "kB", Category: "Resource Usage / Memory", ShortDesc: "Sets the maximum memory to be used for query workspaces.", Context: "user", VarType: "integer", MinVal: "64", MaxVal: "2147483647"},
		{Name: "xmloption", Setting: "content", Category: "Client Connection Defaults / Statement Behavior", ShortDesc: "Sets whether XML data in implicit parsing and serialization operations is to be considered as documents or content fragments.", Context: "user", VarType: "enum", EnumVals: []string{"content", "document"}},
	}
}

// LookupSetting finds a parameter by name, case-insensitively.
func LookupSetting(name string) (Setting, bool) {
	for _, s := range Settings() {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return Setting{}, false
}

// CurrentSetting is the value SHOW name and current_setting(name) report:
// the session's value if it has one, else the default. session_authorization
// is the session user. ok=false means the parameter is unknown (SQLSTATE
// 42704, "unrecognized configuration parameter").
func CurrentSetting(v View, name string) (string, bool) {
	if val, ok := v.Setting(name); ok {
		return val, true
	}
	s, ok := LookupSetting(name)
	if !ok {
		return "", false
	}
	if s.Name == "session_authorization" {
		return sessionUser(v), true
	}
	return s.Setting, true
}
