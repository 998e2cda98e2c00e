"""Sling's connection types and the fields each reads, each field public, secret or a URL.

Built from sling-cli's Go source (v1.4.11, the binary the studio ships, plus the
types added up to v1.5.23), file and line references in the comments. The rule
is **failing closed**: a field not listed as public for its type is secret, and
every field of an unknown type is secret. A `url` field is public once its
userinfo password and the query parameters not public for the type are split
out (Sling copies a URL's query into the connection's properties,
connection.go:491-494, so the same table classifies them). Sling lower-cases
field names (connection.go:72), so look them up lower-cased: `kind_of` does.

Kinds:
  public -- safe to show a viewer: host, port, user, database, schema, region,
            bucket, account or project ids, paths to key files, flags, timeouts.
  secret -- passwords, tokens, keys, key bodies (JSON, PEM), connection strings
            that can embed credentials, SAS URLs, access key ids.
  url    -- a URL-valued field (only values containing "://" are URLs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PUBLIC, SECRET, URL = "public", "secret", "url"


def _t(public: Iterable[str] = (), secret: Iterable[str] = (), url: Iterable[str] = ()) -> dict[str, str]:
    table: dict[str, str] = {}
    for kind, names in ((PUBLIC, public), (SECRET, secret), (URL, url)):
        for name in names:
            name = name.lower()
            assert name not in table, f"{name} classified twice"
            table[name] = kind
    return table


def _merge(*tables: Mapping[str, str]) -> dict[str, str]:
    """Later tables win; a name classified secret anywhere stays secret (fail closed)."""
    out: dict[str, str] = {}
    for table in tables:
        for name, kind in table.items():
            if out.get(name) == SECRET:
                continue
            out[name] = kind
    return out


# fmt: off
# --- groups of fields shared by several types ---------------------------------------

# Every type: the connection's identity and its URL.
BASE = _t(public=["type", "name"], url=["url"])

# Options BaseConn reads for every database (core/dbio/database/database.go, v1.4.11):
# concurrency :333, driver :376, CONN_STR :407 (replaces the whole DSN), use_bulk :2441,
# column_typing :2327, transforms :972, file_max_rows/bytes :3230/:3234, compression
# :3238, parallel :3243; copy_method / allow_bulk_* in several drivers.
DB_COMMON = _t(
    public=[
        "database", "schema", "concurrency", "driver", "use_bulk", "column_typing", "transforms",
        "file_max_rows", "file_max_bytes", "compression", "parallel", "copy_method",
        "allow_bulk_import", "allow_bulk_export", "silent",
        # HEAD: database.go:555 use_adbc, :687 PROXY_URL (SOCKS5), max_conns (pg/mysql/mssql)
        "use_adbc", "max_conns",
    ],
    secret=["conn_str", "adbc_uri"],  # adbc_uri (HEAD) is a driver URI with credentials, not always a URL
    url=["proxy_url"],
)

# SSH tunnel, BaseConn.Connect (database.go:614-642) and fs_s3.go:109-126,
# fs_sftp.go:101-104, fs_ftp.go:96-101. ssh_tunnel is ssh://user:password@host:22;
# ssh_private_key is "raw string or path" (so secret).
SSH = _t(secret=["ssh_private_key", "ssh_passphrase"], url=["ssh_tunnel"])

# Client TLS, BaseConn.makeTlsConfig (database.go:3146-3200), used by mysql, mongodb,
# elasticsearch, prometheus, iceberg: *_file are paths, certificate* are PEM bodies.
TLS = _t(
    public=["tls", "cert_file", "cert_key_file", "cert_ca_file", "certificate", "certificate_ca"],
    secret=["certificate_key"],
)

# AWS staging credentials read by redshift (database_redshift.go:96-120), snowflake
# (database_snowflake.go:323-350), databricks (database_databricks.go:189-298).
AWS_STAGE = _t(
    public=["aws_bucket", "aws_region", "aws_default_region", "aws_profile", "aws_role_arn",
            "aws_session_duration", "aws_endpoint"],
    secret=["aws_access_key_id", "aws_secret_access_key", "aws_session_token"],
)

# Azure staging read by snowflake (database_snowflake.go:403-421) and sqlserver/azuredwh
# (database_sqlserver.go:716-803), database.go:3139, :3411, :3451.
AZURE_STAGE = _t(
    public=["azure_account", "azure_container"],
    secret=["azure_sas_svc_url", "azure_conn_str", "azure_sas_token", "azure_key"],
)

# Google credentials for bigquery/bigtable (database_bigquery.go:79-135,
# database_bigtable.go:65-100): keyfile/key_file/credentialsFile are paths.
GOOGLE_DB = _t(
    public=["keyfile", "key_file", "credentialsfile", "gc_key_file", "google_application_credentials",
            "gc_bucket", "extra_scopes", "project", "location"],
    secret=["key_body", "gc_key_body", "gc_cred_api_key", "keyfile_json", "credentials_json"],
)
# keyfile_json (dbt) and credentials_json (_properties.yaml) are NOT read by Sling 1.4.11
# (it reads key_body / gc_key_body); listed secret so they never show.

# Google Cloud SQL connector (HEAD, >= 1.4.25): database_postgres.go:57-122,
# database_mysql.go:153-220, database_sqlserver.go:381-458.
GCP_CLOUDSQL = _t(
    public=["gcp_instance", "gcp_project", "gcp_region", "gcp_lazy_refresh", "gcp_use_private_ip",
            "gcp_use_iam_auth", "gcp_key_file"],
    # gcp_credentials_json is only in templates/_properties.yaml (not read): secret anyway
    secret=["gcp_key_body", "gcp_credentials_json"],
)

# host/port/user/password servers (connection.go:447-457 from a URL; each type's
# setURL case maps user -> username).
SERVER = _t(public=["host", "port", "user", "username"], secret=["password"])

# MySQL/MariaDB driver params mapped in MySQLConn.GetURL (database_mysql.go:65-97),
# both snake_case and the driver's camelCase (lower-cased). All flags/timeouts.
_MYSQL_PARAMS = {
    "allow_all_files": "allowAllFiles", "allow_cleartext_passwords": "allowCleartextPasswords",
    "allow_fallback_to_plaintext": "allowFallbackToPlaintext", "allow_native_passwords": "allowNativePasswords",
    "allow_old_passwords": "allowOldPasswords", "charset": "charset", "check_conn_liveness": "checkConnLiveness",
    "collation": "collation", "client_found_rows": "clientFoundRows", "columns_with_alias": "columnsWithAlias",
    "interpolate_params": "interpolateParams", "loc": "loc", "time_truncate": "timeTruncate",
    "max_allowed_packet": "maxAllowedPacket", "multi_statements": "multiStatements", "parse_time": "parseTime",
    "read_timeout": "readTimeout", "reject_read_only": "rejectReadOnly", "server_pub_key": "serverPubKey",
    "timeout": "timeout", "tls": "tls", "write_timeout": "writeTimeout",
    "connection_attributes": "connectionAttributes",
}
MYSQL_PARAMS = _t(public=sorted({k for kv in _MYSQL_PARAMS.items() for k in kv} - {"tls"}))

# SQL Server propMapping (database_sqlserver.go:100-180), lower-cased as GetProp does.
MSSQL_PARAMS = _t(
    public=[
        "connection timeout", "connection_timeout", "dial timeout", "dial_timeout", "encrypt", "authenticator",
        "app name", "app_name", "keepalive", "keep_alive", "failoverpartner", "failover_partner", "failoverport",
        "failover_port", "packet size", "packet_size", "log", "trustservercertificate", "trust_server_certificate",
        "trustedconnection", "trusted_connection", "certificate", "hostnameincertificate", "hostname_in_certificate",
        "tlsmin", "tls_min", "serverspn", "server_spn", "workstation id", "workstation_id", "applicationintent",
        "application_intent", "protocol", "columnencryption", "column_encryption", "multisubnetfailover",
        "multi_subnet_failover", "pipe", "krb5-configfile", "krb5-realm", "krb5-keytabfile", "krb5-credcachefile",
        "krb5-dnslookupkdc", "krb5-udppreferencelimit", "krb5_config_file", "krb5_realm", "krb5_keytab_file",
        "krb5_cred_cache_file", "krb5_dns_lookup_kdc", "krb5_udp_preference_limit", "fedauth", "fed_auth",
        "clientcertpath", "client_cert_path",
        # bcp / synonyms / misc (database_sqlserver.go:46-48, 286-287, 499, 588)
        "instance", "bcp_path", "bcp_entra_auth", "use_bcp_map_parallel", "get_synonym", "synonym_database",
        "bcp_identity_insert", "bcp_azure_token_resource", "az_path",
    ],
    # bcp_auth_string is a JSON list of bcp args (-U user -P password), :573;
    # bcp_extra_args may carry the same; aztoken is set by sling itself (:803).
    secret=["bcp_auth_string", "bcp_extra_args", "aztoken"],
)

# Oracle go-ora options (database_oracle.go:105-155)
ORACLE_PARAMS = _t(
    public=["sid", "service_name", "tns", "ssl", "ssl_verify", "wallet", "auth_type", "auth_serv", "os_user",
            "domain", "encryption", "data_integrity", "unix_socket", "timeout", "proxy_client_name",
            "dba_privilege", "lob_fetch", "client_charset", "language", "territory", "trace_file",
            "sqlldr_path", "get_synonym", "max_decimals", "prefetch_rows"],
    # jdbc_str replaces the whole DSN (connection.go:549) and can embed user/password.
    secret=["os_password", "jdbc_str"],
)

# sslmode/role/dbname/statement_timeout are read by Sling (connection.go:460-461, 557; HEAD
# :693); the rest are lib/pq URL query parameters Sling passes through inside `url`, listed so
# the URL splitter keeps them (all public; sslpassword is not, so it is split out).
PG_PARAMS = _t(public=["sslmode", "role", "dbname", "statement_timeout", "sslrootcert", "sslcert", "sslkey",
                       "sslsni", "connect_timeout", "application_name", "target_session_attrs", "search_path"])

# DuckDB secrets (database_duckdb.go:382-448 MakeDuckDbSecretProps, iop/duckdb.go:162-260).
DUCK_STORAGE = _t(
    public=["s3_region", "s3_endpoint", "s3_profile", "s3_bucket", "use_ssl", "url_style", "assume_role_arn",
            "chain", "azure_account_name", "azure_tenant_id", "azure_client_id", "proxy_user_name",
            "client_certificate_path", "provider", "gcs_key_file", "gcs_project_id"],
    secret=["s3_access_key_id", "s3_secret_access_key", "s3_session_token", "azure_account_key",
            "azure_sas_token", "azure_client_secret", "azure_connection_string", "proxy_password",
            "gcs_access_key_id", "gcs_secret_access_key"],
    url=["http_proxy"],
)
DUCK_COMMON = _t(public=["read_only", "duckdb_version", "working_dir", "interactive", "http_timeout",
                         "max_buffer_size", "motherduck_attach_mode"],
                 secret=["motherduck_token"])  # iop/duckdb.go:374 for any duck process

# S3 file system: keys with an AWS_ twin (fs_s3.go:49-60), then :106-250.
_S3_KEYS_PUBLIC = ["bucket", "region", "default_region", "endpoint", "role_arn", "role_session_name", "profile"]
_S3_KEYS_SECRET = ["access_key_id", "secret_access_key", "session_token"]
S3 = _t(
    public=_S3_KEYS_PUBLIC + ["aws_" + k for k in _S3_KEYS_PUBLIC]
    + ["use_environment", "encryption_algorithm", "encryption_kms_key", "use_ssl", "url_style",
       "http_timeout", "max_retries", "anonymous", "account_id"],
    secret=_S3_KEYS_SECRET + ["aws_" + k for k in _S3_KEYS_SECRET],
)

# Azure blob / ABFS (fs_azure.go:30-115, HEAD fs_azure_abfs.go:30-170; duckdb azure secret
# iop/duckdb.go:241-256). AZURE_-prefixed twins of ACCOUNT/CONN_STR/SAS_SVC_URL.
AZURE_FS = _t(
    public=["account", "container", "azure_account", "client_id", "tenant_id", "client_certificate_path",
            "proxy_user_name", "provider"],
    # sas_svc_url is a full SAS URL: the whole value is a bearer credential, kept secret.
    secret=["conn_str", "sas_svc_url", "account_key", "azure_conn_str", "azure_sas_svc_url",
            "client_certificate_password", "client_secret", "sas_token", "proxy_password"],
    url=["http_proxy"],
)

# Google Cloud Storage / HTTP with Google creds: keys with a GC_ twin (fs_google.go:34-100,
# fs_http.go:33-60); access_key_id/secret_access_key are HMAC keys for duckdb (iop/duckdb.go:231).
_GC_PUBLIC = ["bucket", "key_file"]
_GC_SECRET = ["key_body", "cred_api_key"]
GOOGLE_FS = _t(
    public=_GC_PUBLIC + ["gc_" + k for k in _GC_PUBLIC] + ["keyfile", "google_application_credentials"],
    secret=_GC_SECRET + ["gc_" + k for k in _GC_SECRET] + ["access_key_id", "secret_access_key",
                                                            "keyfile_json", "credentials_json"],
)

# Google Drive, keys with a GDRIVE_ twin (fs_googledrive.go:37-135).
_GD_PUBLIC = ["key_file", "client_id", "folder_id", "file_id"]
_GD_SECRET = ["key_body", "client_secret", "access_token", "refresh_token"]
GDRIVE = _t(
    public=_GD_PUBLIC + ["gdrive_" + k for k in _GD_PUBLIC] + ["scopes", "token_expiry", "keyfile"],
    secret=_GD_SECRET + ["gdrive_" + k for k in _GD_SECRET],
)

# File system options read by the base client (core/dbio/filesys/fs.go:116-1226).
FS_COMMON = _t(public=["concurrency", "format", "working_dir", "ignore_existing", "use_buffered_stream",
                       "file_extension", "compression", "file_max_rows", "file_max_bytes", "path"])


# --- the table ----------------------------------------------------------------------

_SQLSERVER = _merge(BASE, DB_COMMON, SSH, SERVER, MSSQL_PARAMS, AZURE_STAGE, GCP_CLOUDSQL)
_MYSQL = _merge(BASE, DB_COMMON, SSH, SERVER, TLS, MYSQL_PARAMS, GCP_CLOUDSQL,
                _t(public=["innodb_lock_wait_timeout", "adjust_column_type"]))
_CLICKHOUSE = _merge(BASE, DB_COMMON, SSH, SERVER,
                     _t(public=["secure", "skip_verify", "extra_settings", "debug", "ssh_tunnel_local_addr",
                                "export_stream_format", "adjust_column_type"], url=["http_url"]))

FIELDS: dict[str, dict[str, str]] = {
    # ---------------- databases ----------------
    "postgres": _merge(BASE, DB_COMMON, SSH, SERVER, PG_PARAMS, GCP_CLOUDSQL, _t(public=["adjust_column_type"])),
    "redshift": _merge(BASE, DB_COMMON, SSH, SERVER, PG_PARAMS, AWS_STAGE),
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
    "starrocks": _merge(BASE, DB_COMMON, SSH, SERVER, _t(public=["format", "header", "null_as"], url=["fe_url"])),
    "oracle": _merge(BASE, DB_COMMON, SSH, SERVER, ORACLE_PARAMS),
    "sqlserver": _SQLSERVER,
    "azuresql": _SQLSERVER,
    "azuredwh": _SQLSERVER,
    "fabric": _merge(_SQLSERVER, _t(public=["abfs_endpoint", "abfs_filesystem", "abfs_parent",
                                            "copy_into_endpoint", "format", "null_as"],
                                    secret=["account_key", "sas_svc_url"])),
    "snowflake": _merge(
        BASE, DB_COMMON, SSH, SERVER, AWS_STAGE, AZURE_STAGE,
        _t(public=["account", "warehouse", "role", "authenticator", "private_key_path", "internal_stage",
                   "max_chunk_download_workers", "custom_json_decoder_enabled", "clientrequestmfatoken",
                   "bucket", "adjust_column_type"],
           # private_key: PEM/base64 body or a path (database_snowflake.go:83-97); passcode: MFA;
           # token: OAuth/PAT (HEAD :59); encoded_private_key is set by sling (:97).
           secret=["private_key", "private_key_passphrase", "passcode", "token", "encoded_private_key",
                   "access_key_id", "secret_access_key"]),
    ),
    "bigquery": _merge(BASE, DB_COMMON, GOOGLE_DB, _t(public=["dataset", "max_decimals", "adjust_column_type"])),
    "bigtable": _merge(BASE, GOOGLE_DB, _t(public=["instance", "start_time"])),
    "databricks": _merge(
        BASE, DB_COMMON, SSH, AWS_STAGE,
        _t(public=["host", "port", "http_path", "warehouse_id", "warehouse", "catalog", "max_rows", "maxrows",
                   "timeout", "user_agent_entry", "useragententry", "ansi_mode", "timezone", "internal_volume",
                   "internal_volume_path", "s3_file_format"],
           secret=["token", "password"]),  # password is an alias of token (connection.go:665)
    ),
    "sqlite": _merge(BASE, DB_COMMON, _t(public=["datetime_format", "pre_signed_duration", "cache", "mode",
                                                 "_journal_mode", "_synchronous"],
                                         url=["instance", "http_url"])),  # instance may be s3:// or https://
    "d1": _merge(BASE, DB_COMMON, _t(public=["account_id", "host", "insert_concurrency"],
                                     secret=["api_token", "password"])),  # host->account_id, password->api_token
    "duckdb": _merge(BASE, DB_COMMON, DUCK_COMMON, _t(url=["instance", "http_url"])),
    "motherduck": _merge(BASE, DB_COMMON, DUCK_COMMON),
    "ducklake": _merge(BASE, DB_COMMON, DUCK_COMMON, DUCK_STORAGE,
                       _t(public=["catalog_type", "catalog_schema", "encrypted", "data_inlining_limit"],
                          # catalog_conn_string: "postgres:dbname=.. password=.." or a DSN
                          secret=["catalog_conn_string"], url=["data_path", "instance", "http_url"])),
    "clickhouse": _CLICKHOUSE,
    "proton": _CLICKHOUSE,
    "trino": _merge(
        BASE, DB_COMMON, SSH, SERVER,
        _t(public=["catalog", "skip_tls", "query_timeout", "source", "session_properties", "custom_client_name",
                   "kerberos_enabled", "kerberos_keytab_path", "kerberos_principal", "kerberos_realm",
                   "kerberos_config_path", "ssl_cert_path", "ssl_cert"],
           secret=["extra_credentials"], url=["http_url"]),
    ),
    "mongodb": _merge(BASE, DB_COMMON, SSH, SERVER, TLS,
                      # authsource..appname: mongo driver URL query parameters (passed through in url)
                      _t(public=["flatten", "jmespath", "jq", "authsource", "authmechanism", "replicaset",
                                 "directconnection", "retrywrites", "w", "ssl", "appname"])),
    "elasticsearch": _merge(BASE, DB_COMMON, SSH, SERVER, TLS,
                            _t(public=["cloud_id", "flatten", "jmespath", "jq"],
                               secret=["api_key", "service_token"],
                               url=["http_url"])),  # a comma-separated list of URLs: URL_LISTS
    "prometheus": _merge(BASE, DB_COMMON, SERVER, TLS,
                         _t(public=["tenant"], secret=["token", "api_key"], url=["http_url"])),
    "athena": _merge(
        BASE, DB_COMMON,
        _t(public=["aws_region", "region", "region_name", "aws_profile", "profile", "aws_profile_name",
                   "workgroup", "work_group", "catalog", "data_location", "s3_data_dir", "staging_location",
                   "s3_staging_dir", "aws_endpoint", "endpoint"],
           # connection.go:880 dbt style: `user` is the AWS access key id for athena
           secret=["aws_access_key_id", "access_key_id", "user", "aws_secret_access_key", "secret_access_key",
                   "aws_session_token", "session_token", "password"]),
    ),
    "iceberg": _merge(
        BASE, DB_COMMON, TLS,
        _t(public=["catalog_type", "catalog_name", "rest_warehouse", "rest_prefix", "rest_metadata_location",
                   "rest_oauth_scope", "rest_oauth_client_id", "rest_oauth_grant_type", "rest_sigv4_enable",
                   "rest_sigv4_region", "rest_sigv4_service", "s3_profile", "s3_region", "s3_endpoint",
                   "glue_account_id", "glue_namespace", "glue_warehouse", "s3tables_arn",
                   "sql_catalog_name", "sql_catalog_conn", "sql_catalog_init", "azure_account_name",
                   "gcs_project_id"],
           # *_extra_props are JSON maps of catalog properties that can hold credentials;
           # sql_conn_payload is filled by sling with another connection's URL + data.
           secret=["rest_token", "rest_oauth_client_secret", "s3_access_key_id", "s3_secret_access_key",
                   "s3_session_token", "rest_extra_props", "glue_extra_props", "sql_extra_props",
                   "sql_conn_payload", "azure_account_key", "azure_sas_token", "gcs_access_key_id",
                   "gcs_secret_access_key"],
           url=["rest_uri", "rest_oauth_server_uri", "sql_warehouse"]),
    ),
    "azuretable": _merge(BASE, DB_COMMON, _t(public=["account", "account_name", "table_name"],
                                             secret=["account_key", "key", "sas_token"])),
    "exasol": _merge(BASE, DB_COMMON, SSH, SERVER, _t(public=["autocommit"])),
    "adbc": _merge(BASE, DB_COMMON, _t(public=["driver_name", "driver_entrypoint", "entrypoint", "ingest_mode"],
                                       # adbc.* driver options can hold anything: not public
                                       secret=["uri"])),
    "odbc": _merge(BASE, DB_COMMON, _t(public=["conn_template"], secret=["conn_string"])),
    "scylladb": _merge(BASE, DB_COMMON, SERVER,
                       _t(public=["hosts", "keyspace", "consistency", "num_conns", "page_size", "local_dc",
                                  "datacenter", "timeout", "connect_timeout", "disable_initial_host_lookup",
                                  "insert_concurrency"])),
    # ---------------- file systems ----------------
    "file": _merge(BASE, FS_COMMON),
    "s3": _merge(BASE, FS_COMMON, SSH, S3),
    "r2": _merge(BASE, FS_COMMON, SSH, S3),
    "gs": _merge(BASE, FS_COMMON, GOOGLE_FS),
    "azure": _merge(BASE, FS_COMMON, AZURE_FS),
    "abfs": _merge(BASE, FS_COMMON, AZURE_FS, _t(public=["filesystem", "parent", "endpoint"])),
    "gdrive": _merge(BASE, FS_COMMON, GDRIVE),
    "ftp": _merge(BASE, FS_COMMON, SSH, _t(public=["host", "port", "user", "timeout", "ftps"],
                                           secret=["password"])),
    "sftp": _merge(BASE, FS_COMMON, SSH, _t(public=["host", "port", "user"],
                                            # private_key: "raw value or path to ssh key file" (fs_sftp.go:96)
                                            secret=["password", "private_key", "passphrase"])),
    "hdfs": _merge(BASE, FS_COMMON, _t(public=["user"])),
    "http": _merge(BASE, FS_COMMON, GOOGLE_FS,
                   _t(public=["http_user", "sheet", "gsheet_sheet_name", "gsheet_mode"],
                      secret=["http_password", "headers", "auth"])),
    # ---------------- API specs ----------------
    # connection.go:361 spec (file://, https:// or CONN/path), api.go:39-48 state/secrets,
    # HEAD api.go:74 inputs. state and inputs are user data of the spec: not public.
    "api": _merge(BASE, _t(secret=["secrets", "state", "inputs"], url=["spec"])),
}

# Values that are comma-separated lists of URLs (split each item).
URL_LISTS = frozenset({("elasticsearch", "http_url")})

# Names that hold URLs in some type (split their userinfo password and query secrets).
URL_FIELDS = frozenset(name for table in FIELDS.values() for name, kind in table.items() if kind == URL)
# Not URL fields, on purpose: sas_svc_url, conn_str, catalog_conn_string, conn_string,
# jdbc_str, adbc_uri/uri, dsn -- whole-value secrets (a SAS URL *is* the credential; the
# others are DSNs that need not be URLs at all).

# --- usual display order (what a form shows first) ------------------------------------
# From the "credentials keys accepted" lists of docs.slingdata.io and the URL templates in
# connection.go; the rest of a type's fields follow in any order.
_SERVER_ORDER = ["host", "port", "user", "password", "database", "schema"]
DISPLAY_ORDER: dict[str, list[str]] = {
    "postgres": [*_SERVER_ORDER, "sslmode", "role", "ssh_tunnel", "ssh_private_key", "ssh_passphrase"],
    "redshift": [*_SERVER_ORDER, "sslmode", "aws_bucket", "aws_access_key_id", "aws_secret_access_key"],
    "mysql": [*_SERVER_ORDER, "ssh_tunnel", "ssh_private_key", "ssh_passphrase"],
    "mariadb": [*_SERVER_ORDER, "ssh_tunnel", "ssh_private_key", "ssh_passphrase"],
    "starrocks": [*_SERVER_ORDER, "fe_url"],
    "oracle": ["host", "port", "user", "password", "service_name", "sid", "tns", "schema"],
    "sqlserver": [*_SERVER_ORDER, "instance", "encrypt", "trust_server_certificate"],
    "azuresql": [*_SERVER_ORDER, "encrypt", "fedauth"],
    "azuredwh": [*_SERVER_ORDER, "azure_account", "azure_container", "azure_sas_svc_url"],
    "fabric": ["host", "user", "password", "database", "schema", "fedauth", "abfs_endpoint", "abfs_filesystem"],
    "snowflake": ["account", "user", "password", "database", "schema", "warehouse", "role", "authenticator",
                  "private_key_path", "private_key", "private_key_passphrase"],
    "bigquery": ["project", "dataset", "location", "key_file", "key_body", "gc_bucket"],
    "bigtable": ["project", "instance", "keyfile"],
    "databricks": ["host", "token", "warehouse_id", "http_path", "catalog", "schema"],
    "sqlite": ["instance", "schema"],
    "d1": ["account_id", "api_token", "database"],
    "duckdb": ["instance", "schema", "read_only"],
    "motherduck": ["database", "motherduck_token", "schema"],
    "ducklake": ["catalog_type", "catalog_conn_string", "data_path", "schema"],
    "clickhouse": [*_SERVER_ORDER, "secure", "http_url"],
    "proton": [*_SERVER_ORDER, "secure"],
    "trino": ["host", "port", "user", "password", "catalog", "schema", "http_url"],
    "mongodb": ["host", "port", "user", "password", "database", "url"],
    "elasticsearch": ["http_url", "host", "port", "user", "password", "cloud_id", "api_key"],
    "prometheus": ["http_url", "user", "password", "token", "tenant"],
    "athena": ["aws_region", "aws_access_key_id", "aws_secret_access_key", "aws_profile", "workgroup",
               "data_location", "staging_location", "database"],
    "iceberg": ["catalog_type", "catalog_name", "rest_uri", "rest_warehouse", "rest_token"],
    "azuretable": ["account", "account_key", "sas_token", "conn_str"],
    "exasol": [*_SERVER_ORDER],
    "adbc": ["driver_name", "driver", "adbc_uri", "database", "schema"],
    "odbc": ["conn_string", "conn_template"],
    "scylladb": ["host", "port", "user", "password", "keyspace"],
    "file": [],
    "s3": ["bucket", "region", "access_key_id", "secret_access_key", "session_token", "endpoint", "profile",
           "role_arn", "use_environment"],
    "r2": ["bucket", "access_key_id", "secret_access_key", "endpoint"],
    "gs": ["bucket", "key_file", "key_body"],
    "azure": ["account", "container", "sas_svc_url", "conn_str", "account_key", "client_id", "tenant_id"],
    "abfs": ["account", "filesystem", "parent", "endpoint", "account_key", "sas_svc_url", "client_id"],
    "gdrive": ["folder_id", "key_file", "key_body", "client_id", "client_secret"],
    "ftp": ["host", "port", "user", "password"],
    "sftp": ["host", "port", "user", "password", "private_key", "passphrase"],
    "hdfs": ["url", "user"],
    "http": ["url", "http_user", "http_password"],
    "api": ["spec", "secrets"],
}

# --- URL schemes ---------------------------------------------------------------------------
# A `url`'s scheme decides the type, overriding `type` (connection.go:444 SchemeType,
# :1170-1178; filesys ParseURLType fs_file_node.go:275-318; ValidateType dbio_types.go:130-157
# maps postgresql->postgres, mongodb+srv->mongodb). The database driver is then chosen by URL
# prefix (database.go:258-312): a postgres URL whose host contains redshift.amazonaws.com
# runs as redshift; duckdb:// and motherduck:// both run DuckDbConn.
URL_SCHEMES: dict[str, tuple[str, ...]] = {
    "postgres": ("postgresql://", "postgres://"),
    "redshift": ("redshift://",),
    "mysql": ("mysql://",),
    "mariadb": ("mariadb://",),
    "starrocks": ("starrocks://",),
    "oracle": ("oracle://",),
    "sqlserver": ("sqlserver://",),  # azuresql/azuredwh URLs are sqlserver:// and list as SQLServer
    "azuresql": ("azuresql://",),  # accepted by ValidateType but the driver routing needs sqlserver:
    "azuredwh": ("azuredwh://",),  # likewise; Sling itself builds sqlserver:// for both
    "fabric": ("fabric://",),  # HEAD
    "snowflake": ("snowflake://",),
    "bigquery": ("bigquery://",),
    "bigtable": ("bigtable://",),
    "databricks": ("databricks://",),
    "sqlite": ("sqlite://",),
    "d1": ("d1://",),
    "duckdb": ("duckdb://",),
    "motherduck": ("motherduck://",),
    "ducklake": ("ducklake://",),
    "clickhouse": ("clickhouse://",),
    "proton": ("proton://",),
    "trino": ("trino://",),
    "mongodb": ("mongodb://", "mongodb+srv://"),
    "elasticsearch": ("elasticsearch://",),
    "prometheus": ("prometheus://",),
    "athena": ("athena://",),
    "iceberg": ("iceberg://",),
    "azuretable": ("azuretable://",),  # HEAD
    "exasol": ("exasol://",),  # HEAD
    "scylladb": ("scylladb://",),  # HEAD
    "adbc": ("adbc://",),  # HEAD, placeholder
    "odbc": ("odbc://",),  # HEAD, placeholder
    "file": ("file://",),
    "s3": ("s3://",),
    "gs": ("gs://",),
    "azure": ("azure://", "https://<account>.blob.core.windows.net/", "https://<account>.dfs.core.windows.net/"),
    "abfs": ("abfs://", "abfss://", "https://<account>.dfs.core.windows.net/"),  # HEAD
    "gdrive": ("gdrive://",),
    "ftp": ("ftp://",),
    "sftp": ("sftp://",),
    "hdfs": ("hdfs://",),
    "http": ("http://", "https://"),
}
SCHEME_TYPES: dict[str, str] = {
    s.split("://")[0]: t for t, schemes in URL_SCHEMES.items() for s in schemes if not s.startswith("https://<")
}
SCHEME_TYPES.update({"https": "http", "postgresql": "postgres"})

# Fields that change neither where a connection goes nor who it signs in as: how data is read
# and written, timeouts, retries, labels (from the tables above). An edit of these alone keeps
# the stored secrets (`replication.connections.carry_secrets`); a change of any other field,
# known or not, counts as sending them elsewhere (failing closed).
HARMLESS = frozenset(
    {"schema", "concurrency", "use_bulk", "column_typing", "transforms", "file_max_rows", "file_max_bytes",
     "compression", "parallel", "copy_method", "allow_bulk_import", "allow_bulk_export", "silent",
     "max_conns", "adjust_column_type", "datetime_format", "format", "header", "null_as", "max_decimals",
     "flatten", "jmespath", "jq", "file_extension", "ignore_existing", "use_buffered_stream", "timeout",
     "connect_timeout", "connection_timeout", "statement_timeout", "query_timeout", "read_timeout",
     "write_timeout", "http_timeout", "max_retries", "application_name", "app_name", "prefetch_rows",
     "lob_fetch", "insert_concurrency", "page_size", "max_rows", "maxrows", "max_chunk_download_workers",
     "innodb_lock_wait_timeout", "keepalive", "keep_alive", "packet_size", "packet size", "interactive",
     "read_only", "s3_file_format", "export_stream_format", "sheet", "gsheet_sheet_name", "gsheet_mode"}
)

# --- addresses -------------------------------------------------------------------------------
# The URL sling makes of a connection's fields when it has no `url` (Connection.setURL,
# connection.go:534-866 at v1.4.11): `{field}` is the field's value as written (the password is
# query-escaped, nothing else), so a user, port, database or warehouse can move the URL's host;
# `replication.reach` judges the URL as made. Only the types whose URL's host is contacted: the
# others' URL names a project, region or catalog (bigquery, bigtable, athena, iceberg, d1, duckdb,
# sqlite, motherduck, ducklake) and they reach fixed service hosts or a path.
_SERVER_URL = "{username}:{password}@{host}:{port}/{database}"
SLING_URLS: dict[str, str] = {
    "postgres": "postgresql://" + _SERVER_URL + "?sslmode={sslmode}&role={role}",
    "redshift": "redshift://" + _SERVER_URL + "?sslmode={sslmode}",
    "starrocks": "starrocks://" + _SERVER_URL,
    "mysql": "mysql://" + _SERVER_URL,
    "mariadb": "mariadb://" + _SERVER_URL,
    "mongodb": "mongodb://{username}:{password}@{host}:{port}",
    "elasticsearch": "elasticsearch://{username}:{password}@{host}:{port}",
    "prometheus": "prometheus://{host}",
    # host: the account without .snowflakecomputing.com (connection.go:650-652)
    "snowflake": "snowflake://{username}:{password}@{host}.snowflakecomputing.com:443/{database}"
    "?&warehouse={warehouse}&role={role}&authenticator={authenticator}&passcode={passcode}",
    "databricks": "databricks://token:{token}@{host}:{port}{http_path}/sql/1.0/warehouses/{warehouse_id}",
    # `:{port}`, or `/{instance}` without a port (connection.go:757-772)
    "sqlserver": "sqlserver://{username}:{password}@{host}:{port}/{instance}?&database={database}",
    "azuresql": "sqlserver://{username}:{password}@{host}:{port}/{instance}?&database={database}",
    "azuredwh": "sqlserver://{username}:{password}@{host}:{port}/{instance}?&database={database}",
    "trino": "trino://{username}:{password}@{host}:{port}?catalog={catalog}&schema={schema}",
    "clickhouse": "clickhouse://" + _SERVER_URL + "?secure={secure}&skip_verify={skip_verify}",
    "proton": "proton://" + _SERVER_URL + "?secure={secure}&skip_verify={skip_verify}",
    "oracle": "oracle://{username}:{password}@{host}:{port}/{database}",
    "sftp": "sftp://{user}:{password}@{host}:{port}/",
    "ftp": "ftp://{user}:{password}@{host}:{port}/",
}
# Fields read as an account whose service host sling makes of it (fs_azure.go:81 the blob
# service, HEAD fs_azure_abfs.go the dfs one; database_snowflake.go:420, database_sqlserver.go:716
# staging through the blob service; iop/duckdb.go:241 duckdb's azure secret).
ACCOUNT_HOSTS: dict[tuple[str | None, str], str] = {
    ("azure", "account"): "{}.blob.core.windows.net",
    ("abfs", "account"): "{}.dfs.core.windows.net",
    (None, "azure_account"): "{}.blob.core.windows.net",
    (None, "azure_account_name"): "{}.blob.core.windows.net",
}
# URL schemes whose host is not a network host: a local file, a bucket, a project, a region.
NOT_HOST_SCHEMES = frozenset(
    {"file", "sqlite", "duckdb", "motherduck", "ducklake", "s3", "gs", "gcs", "gdrive", "bigquery",
     "bigtable", "athena", "iceberg", "d1"}
)

# fmt: on


def kind_of(conn_type: str, field: str) -> str:
    """`public`, `secret` or `url` for a field of a type; an unknown field or type is secret."""
    return FIELDS.get(str(conn_type).lower(), {}).get(str(field).lower(), SECRET)
