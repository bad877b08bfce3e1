"""Common failure signatures in log lines: what broke and, where the line says so, which host, variable or table."""
# ruff: noqa: E501  (regexes and user-facing messages read better unwrapped)

from __future__ import annotations

import re
from dataclasses import dataclass

_HOST = r"(?:[A-Za-z][\w-]*(?:\.[\w-]+)*|\d{1,3}(?:\.\d{1,3}){3})"
_TARGET = rf"(?<![\w.:-]){_HOST}:\d{{2,5}}\b"


@dataclass(frozen=True)
class Signature:
    kind: str
    role: str  # cause | symptom
    weight: int
    title: str  # formatted with the match's named groups plus {line}
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class SignatureMatch:
    signature: Signature
    groups: dict[str, str]

    @property
    def kind(self) -> str:
        return self.signature.kind

    def title(self) -> str:
        values = {key: value for key, value in self.groups.items() if value is not None}
        try:
            return self.signature.title.format_map(_Defaults(values))
        except (KeyError, ValueError, IndexError):
            return self.signature.title


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        if key == "target":
            return "a dependency"
        if key == "host":
            return "a host name"
        return self.get("line", "the line quoted in the evidence")


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


SIGNATURES: tuple[Signature, ...] = (
    Signature(
        "missing_env",
        "cause",
        88,
        "Required environment variable {var} is not set",
        _re(
            r"(?:environment variable|env var|env)\s+['\"`]?(?P<var>[A-Z][A-Z0-9_]{2,})['\"`]?\s+(?:is\s+)?"
            r"(?:not set|missing|required|undefined|is empty|must be set)"
            r"|(?:missing|required|undefined|unset)\s+(?:required\s+)?(?:environment variable|env var|env)s?[:\s]+['\"`]?(?P<var2>[A-Z][A-Z0-9_]{2,})"
            r"|KeyError: ['\"](?P<var3>[A-Z][A-Z0-9_]{2,})['\"]"
            r"|os\.environ\[['\"](?P<var4>[A-Z][A-Z0-9_]{2,})['\"]\]"
        ),
    ),
    Signature(
        "invalid_config",
        "cause",
        80,
        "Invalid configuration: {line}",
        _re(
            r"(?:invalid|malformed|bad|could not parse|failed to parse|unable to parse|error parsing)\s+"
            r"(?:value for\s+|config(?:uration)?|yaml|json|toml|setting|environment variable|env var|url|port|duration)"
            r"|(?:missing|required)\s+(?:required\s+)?(?:config(?:uration)?|setting|property|option|key)\b"
            r"|config(?:uration)? file\s+\S+\s+(?:not found|does not exist)"
        ),
    ),
    Signature(
        "dns_failure",
        "cause",
        76,
        "DNS resolution fails for {host}",
        _re(
            r"(?:lookup|resolve|resolving)\s+(?P<host>[A-Za-z0-9_.-]+)(?:\s+on\s+\S+)?:\s*(?:no such host|server misbehaving|i/o timeout)"
            r"|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)\s+(?P<host2>[A-Za-z0-9_.-]+)"
            r"|(?:Name or service not known|Temporary failure in name resolution|nodename nor servname provided|UnknownHostException:?\s*(?P<host3>[A-Za-z0-9_.-]+)?)"
            r"|can't (?:find|resolve) (?!dependencies\b|the\b)'?(?P<host4>[A-Za-z0-9_.-]+)'?(?::\s*(?:NXDOMAIN|SERVFAIL|No answer))?|bad address '(?P<host5>[A-Za-z0-9_.-]+)'"
            r"|NXDOMAIN|getaddrinfo failed for (?P<host6>[A-Za-z0-9_.-]+)|could not translate host name \"(?P<host7>[A-Za-z0-9_.-]+)\""
        ),
    ),
    Signature(
        "tls_error",
        "cause",
        84,
        "TLS certificate problem: {detail}",
        _re(
            r"(?P<detail>x509: certificate (?:has expired|is not yet valid|signed by unknown authority|is valid for [^,;]+)"
            r"|certificate verify failed(?:: [^)\]]+)?|certificate has expired|CERT_HAS_EXPIRED|SSL(?:Handshake)?Exception[^\n]{0,80}"
            r"|tls: (?:failed to verify certificate|handshake failure|bad certificate)[^\n]{0,80}|PKIX path building failed|unable to get local issuer certificate)"
        ),
    ),
    Signature(
        # RFC 6749 5.2: the authorization server does not accept the client's own credentials (client_id /
        # client_secret), so no user can log in through SSO however right their password is
        "oauth_client_rejected",
        "cause",
        84,
        "The identity provider rejects the OAuth client credentials ({code}): the client ID or client secret the app "
        "sends no longer matches the one registered at the IdP (a rotated or mistyped client secret), so SSO logins fail",
        _re(r"\b(?P<code>unauthorized_client|invalid_client)\b"),
    ),
    Signature(
        # PostgreSQL's privilege check: the role is authenticated but has no GRANT on the object; a table dropped and
        # recreated by another role (a migration user) keeps only its owner's privileges
        "db_permission_denied",
        "cause",
        84,
        "The database refuses the application's role on {what} {object} (permission denied): the role lacks a GRANT on it (a table recreated by another role, such as a migration user, keeps only its owner's privileges unless default privileges cover it)",
        _re(
            r"permission denied for (?P<what>table|relation|schema|sequence|view|function|database) \\?\"?(?P<object>[\w.]+)"
        ),
    ),
    Signature(
        "auth_failure",
        "cause",
        78,
        "Authentication or permission failure: {detail}",
        _re(
            r"(?P<detail>password authentication failed for user \"?[\w.-]+\"?|Access denied for user [^\s]+"
            r"|authentication failed|invalid credentials|invalid (?:api )?(?:key|token)|unauthorized(?!_client)|401 Unauthorized"
            r"|403 Forbidden|AccessDenied(?:Exception)?|is not authorized to perform: \S+|permission denied(?! \(publickey)"
            r"|NOAUTH Authentication required|WRONGPASS[^\n]{0,40}|SignatureDoesNotMatch|ExpiredToken)"
        ),
    ),
    Signature(
        "db_pool_exhausted",
        "cause",
        82,
        "Database connection pool exhausted",
        _re(
            r"Connection is not available, request timed out|QueuePool limit of size \d+ overflow \d+ reached"
            r"|(?:connection )?pool (?:is )?exhausted|timeout acquiring (?:a )?connection|Timed out fetching a new connection"
            r"|Unable to acquire JDBC Connection|could not obtain (?:a )?connection from (?:the )?pool|too many clients in pool"
        ),
    ),
    Signature(
        "db_too_many_connections",
        "cause",
        84,  # the database's own refusal explains the pool timeouts its clients print alongside it
        "Database refuses connections: too many connections",
        _re(
            r"too many connections|remaining connection slots are reserved|sorry, too many clients already"
            r"|max_connections (?:reached|exceeded|limit)|ER_CON_COUNT_ERROR"
        ),
    ),
    Signature(
        # PostgreSQL's client-authentication refusal: pg_hba.conf has no line for this client (address, user,
        # database and SSL or not); "no encryption" under hostssl-only rules means the client must use SSL
        "db_hba_rejected",
        "cause",
        88,
        "PostgreSQL rejects the connection: no pg_hba.conf entry for host {client}, user {user}, database {db}"
        "{encryption}; pg_hba.conf has no rule admitting this client{hint}",
        _re(
            r"no pg_hba\.conf entry for (?:replication connection from )?host \\?\"(?P<client>[\w.:-]+)\\?\",\s*user \\?\"(?P<user>[\w.-]+)\\?\""
            r"(?:,\s*database \\?\"(?P<db>[\w.-]+)\\?\")?(?:,\s*(?P<encryption>no encryption|SSL (?:on|off)|SSL encryption|GSS encryption))?"
        ),
    ),
    Signature(
        # MySQL ER_HOST_NOT_PRIVILEGED (1130): the account exists for other hosts only
        "db_host_not_allowed",
        "cause",
        86,
        "MySQL refuses the client host: Host '{client}' is not allowed to connect (no account matches that host)",
        _re(r"Host '(?P<client>[\w.:%-]+)' is not allowed to connect to this (?:MySQL|MariaDB) server"),
    ),
    Signature(
        # PgBouncer's own limits (pgbouncer.org/config.html): clients beyond max_client_conn are refused; clients
        # waiting longer than query_wait_timeout for a server connection of a full pool are dropped
        "pgbouncer_limit",
        "cause",
        88,
        "PgBouncer refuses clients: {detail}; every client pod's pool counts against it, so more replicas or bigger "
        "pools exceed it",
        _re(r"(?P<detail>no more connections allowed \(max_client_conn\)|query_wait_timeout)"),
    ),
    Signature(
        # a file the program opens at startup (a key, a certificate, a config mounted from a Secret/ConfigMap) is
        # not where it looks: Go's "open /x: no such file or directory", Python's FileNotFoundError, Node's ENOENT
        "file_missing",
        "cause",
        82,
        "A file the program needs is missing: {path} (no such file or directory); check the volume or Secret/ConfigMap "
        "key mounted there",
        _re(
            r"\b(?:open|stat|read|load|lstat)\w*\s+['\"]?(?P<path>/[\w./@+-]+)['\"]?: no such file or directory"
            r"|FileNotFoundError: \[Errno 2\] No such file or directory: '(?P<path2>/[\w./@+-]+)'"
            r"|ENOENT: no such file or directory, (?:open|stat|lstat|scandir) '(?P<path3>/[\w./@+-]+)'"
            r"|java\.nio\.file\.NoSuchFileException: (?P<path4>/[\w./@+-]+)"
            r"|(?P<path5>/[\w./@+-]+) \(No such file or directory\)"
        ),
    ),
    # --- what datastores and brokers answer when they refuse a client (their own documented messages) ---
    Signature(
        "redis_loading",
        "cause",
        80,
        "Redis is still loading its dataset into memory (after a restart or a full resync) and refuses commands until it finishes (LOADING)",
        _re(r"LOADING Redis is loading the dataset in memory"),
    ),
    Signature(
        "redis_moved",
        "cause",
        80,
        "The client talks to a Redis Cluster without cluster mode: the server answers MOVED (the key's slot is served by {target})",
        _re(rf"\bMOVED \d{{1,5}} (?P<target>{_HOST}:\d{{2,5}})"),
    ),
    Signature(
        "redis_max_clients",
        "cause",
        84,
        "Redis refuses new connections: max number of clients reached (maxclients); a client leaks connections or the limit is too low",
        _re(r"ERR max number of clients reached"),
    ),
    Signature(
        "kafka_record_too_large",
        "cause",
        84,
        "Kafka rejects the record as too large{size} (the producer's max.request.size or the topic's max.message.bytes / the broker's message.max.bytes)",
        _re(
            r"RecordTooLargeException(?:: The message is (?P<bytes>\d+) bytes when serialized which is larger than (?P<limit>\d+))?"
            r"|MESSAGE_TOO_LARGE|Message size too large"
        ),
    ),
    Signature(
        "kafka_no_brokers",
        "cause",
        74,
        "The Kafka client reaches no broker (it has run out of available brokers to talk to): a wrong bootstrap address, the network, or a TLS/SASL listener mismatch",
        _re(r"client has run out of available brokers to talk to"),
    ),
    Signature(
        "postgres_recovery_conflict",
        "cause",
        80,
        "Queries on the PostgreSQL standby are cancelled because they conflict with WAL replay (canceling statement due to conflict with recovery; tune max_standby_streaming_delay or hot_standby_feedback, or read from the primary)",
        _re(r"canceling statement due to conflict with recovery"),
    ),
    Signature(
        "es_circuit_breaker",
        "cause",
        80,
        "Elasticsearch's {breaker} circuit breaker rejects requests (Data too large): its heap is nearly full",
        _re(r"circuit_breaking_exception[^\n]{0,40}?\[(?P<breaker>\w+)\] Data too large"),
    ),
    Signature(
        "broker_declare_mismatch",
        "cause",
        84,
        "RabbitMQ refuses the declaration: PRECONDITION_FAILED - {detail}: the client declares it with other arguments than it already has (delete and re-declare it, or align the client)",
        _re(r"PRECONDITION_FAILED - (?P<detail>inequivalent arg '[^']+' for (?:queue|exchange) '[^']+'[^\"\n]{0,120})"),
    ),
    Signature(
        "zookeeper_connection_loss",
        "cause",
        74,
        "ZooKeeper is unreachable from the client (KeeperErrorCode = ConnectionLoss): the ensemble is down, has no quorum or the network drops the sessions",
        _re(r"KeeperErrorCode = ConnectionLoss"),
    ),
    Signature(
        "etcd_no_space",
        "cause",
        88,
        "etcd refuses writes: database space exceeded (it reached its quota and raised the NOSPACE alarm; compact and defragment it, then disarm the alarm)",
        _re(r"mvcc: database space exceeded|etcdserver: no space"),
    ),
    Signature(
        "mongo_not_primary",
        "cause",
        80,
        "MongoDB refuses the write: the node is not primary ({detail}): the client writes to a secondary, or the replica set has no primary",
        _re(
            r"(?P<detail>not primary(?: and secondaryOk=false)?|NotWritablePrimary|not master and slaveOk=false|NotPrimaryNoSecondaryOk)"
        ),
    ),
    Signature(
        "db_unique_violation",
        "cause",
        70,
        "The database rejects writes that duplicate a unique key: {detail}",
        _re(
            r"(?P<detail>duplicate key value violates unique constraint \\?\"[\w.-]+\\?\"|E11000 duplicate key error collection: [\w.-]+ index: [\w.-]+"
            r"|Duplicate entry '[^']*' for key '[\w.-]+')"
        ),
    ),
    Signature(
        "db_deadlock",
        "cause",
        72,
        "Database deadlocks",
        _re(r"deadlock detected|Deadlock found when trying to get lock|ER_LOCK_DEADLOCK|lock wait timeout exceeded"),
    ),
    Signature(
        "db_schema",
        "cause",
        80,
        "Database schema mismatch: {detail}",
        _re(
            r"(?P<detail>relation \"[\w.]+\" does not exist|column \"?[\w.]+\"? (?:of relation \"\w+\" )?does not exist"
            r"|no such table: [\w.]+|Table '[\w.]+' doesn't exist|Unknown column '[\w.]+'|undefined_table|undefined_column"
            r"|pending migrations?|migration[s]? (?:has|have) not been applied)"
        ),
    ),
    Signature(
        "postgres_wal_removed",
        "cause",
        90,
        "The PostgreSQL standby cannot catch up: the primary has already removed WAL segment {segment} it needs (requested WAL segment has already been removed), so it stays in recovery and never becomes ready (rebuild it with pg_basebackup; keep WAL for it with a replication slot)",
        _re(r"requested WAL segment (?P<segment>[0-9A-F]{24}) has already been removed"),
    ),
    Signature(
        # a standby's primary_slot_name (or a logical-decoding client's slot) that the primary does not have
        "postgres_slot_missing",
        "cause",
        90,
        "PostgreSQL replication slot {slot} does not exist{streaming}",
        _re(
            r"(?P<streaming>could not start WAL streaming: )?(?:ERROR:\s+)?replication slot \\?\"(?P<slot>[\w.-]+)\\?\" does not exist"
        ),
    ),
    Signature(
        "db_unavailable",
        "cause",
        74,
        "Database unavailable: {detail}",
        _re(
            r"(?P<detail>the database system is (?:shutting down|starting up|in recovery mode)|database \"[\w-]+\" does not exist"
            r"|could not connect to server|Communications link failure|server closed the connection unexpectedly"
            r"|terminating connection due to administrator command)"
        ),
    ),
    Signature(
        "disk_full",
        "cause",
        88,
        "Disk full: no space left on device",
        _re(r"No space left on device|ENOSPC|disk (?:is )?full|not enough (?:free )?disk space|DiskFull"),
    ),
    Signature(
        "php_memory_limit",
        "cause",
        90,
        "PHP stops with a fatal error at its memory_limit ({bytes} bytes), not at the container's limit: {line}",
        # php.ini's memory_limit (128M without a php.ini, as the official images ship) caps one script's heap
        _re(r"Allowed memory size of (?P<bytes>\d+) bytes exhausted"),
    ),
    Signature(
        "jar_without_main_class",
        "cause",
        90,
        "java -jar finds no Main-Class in the jar's manifest: it is a plain library jar, not an executable (fat) jar: {line}",
        # the build stopped writing Main-Class (spring-boot-maven-plugin repackage, maven-jar-plugin/shade config, jib's mainClass)
        _re(r"no main manifest attribute, in \S+|Failed to load Main-Class manifest attribute from"),
    ),
    Signature(
        "out_of_memory",
        "cause",
        80,
        "Process runs out of memory: {detail}",
        _re(
            r"(?P<detail>java\.lang\.OutOfMemoryError(?:: [\w ]+)?|JavaScript heap out of memory|MemoryError\b"
            r"|fatal error: runtime: out of memory|Cannot allocate memory|out of memory|OOM command not allowed)"
        ),
    ),
    Signature(
        "cloud_access_denied",
        "cause",
        88,
        "The cloud API refuses the call: {detail}",
        _re(
            r"(?P<detail>An error occurred \((?:AccessDenied|AccessDeniedException|UnauthorizedOperation|Forbidden|InvalidAccessKeyId|ExpiredToken)\) when calling the \w+ operation[^\n]{0,160}?(?:is not authorized to perform: [\w:*-]+|$)"
            r"|is not authorized to perform: [\w:*-]+(?: on resource: \S+)?"
            r"|Permission '[\w.]+' denied (?:on|for) (?:resource|project) '?[\w/.:-]{0,160}'?|does not have [\w.]+ access to [^\n]{0,80}"
            r"|PermissionDenied: 403 [^\n\\]{0,160}"
            r"|AuthorizationFailed[^\n]{0,60}does not have authorization to perform action '[^']+'"
            r"|AccessDenied: Access Denied|status code: 403, request id)"
        ),
    ),
    Signature(
        "es_read_only",
        "cause",
        88,
        "Elasticsearch refuses writes: the index is read-only because the disk passed the flood-stage watermark ({detail})",
        _re(
            r"(?P<detail>cluster_block_exception|flood[ -]stage disk watermark \[[^\]]+\] exceeded|index\.blocks\.read_only_allow_delete|"
            r"blocked by: \[FORBIDDEN/12/index read-only / allow delete \(api\)\])"
        ),
    ),
    Signature(
        "redis_maxmemory",
        "cause",
        86,
        "Redis is full: it reached maxmemory and its eviction policy refuses writes (OOM command not allowed when used memory > 'maxmemory')",
        _re(r"OOM command not allowed when used memory > 'maxmemory'"),
    ),
    Signature(
        "kafka_not_enough_replicas",
        "cause",
        82,
        "Kafka refuses writes: fewer in-sync replicas than min.insync.replicas (NotEnoughReplicas)",
        _re(r"NotEnoughReplicas(?:Exception|AfterAppend)?|NOT_ENOUGH_REPLICAS"),
    ),
    Signature(
        "unknown_flag",
        "cause",
        88,
        "The program rejects its command-line flag {flag}: flag provided but not defined",
        _re(
            r"flag provided but not defined: (?P<flag>-{1,2}[\w.-]+)|unknown (?:flag|shorthand flag): '?(?P<flag2>-{1,2}[\w.-]+)'?|unrecognized arguments: (?P<flag3>\S+)"
        ),
    ),
    Signature(
        "config_unknown_directive",
        "cause",
        88,
        "The configuration is rejected: {detail}",
        _re(
            r"(?P<detail>unknown directive \\?\"[\w.-]+\\?\"[^\n]{0,60}|unknown keyword '[\w.-]+'[^\n]{0,80}|"
            r"(?:unknown|unrecognized|invalid) (?:configuration )?(?:option|parameter|setting|field|key) ['\"`]?[\w.-]+['\"`]?[^\n]{0,60}|"
            r"\[emerg\][^\n]{0,160}|Could not parse SQLAlchemy URL from string '[^']*'|invalid port number in database URL|"
            r"field \w+ not found in type [\w.]+|\w+: Cannot find field|unknown field \"?[\w.]+\"?)"
        ),
    ),
    Signature(
        "shell_error",
        "cause",
        86,
        "The container's shell script has a syntax error: {detail}",
        _re(
            r"(?P<detail>(?:[\w./-]+: )?(?:line \d+: )?syntax error(?: near unexpected token [^\n]{1,20}| at line \d+[^\n]{0,60}|: unexpected end of file)"
            r"|bad interpreter: No such file or directory|/bin/(?:ba)?sh\^M: bad interpreter)"
        ),
    ),
    Signature(
        "command_not_found",
        "cause",
        86,
        "The container's command {cmd} is not found in the image (command not found)",
        _re(r"^(?:[\w./-]+: )?(?:line \d+: |\d+: )?(?P<cmd>[\w./-]+): (?:command )?not found\s*$"),
    ),
    Signature(
        "missing_module",
        "cause",
        86,
        "A module/class the program needs is missing from the image: {detail}",
        _re(
            r"(?P<detail>ModuleNotFoundError: No module named '[\w.]+'|ImportError: cannot import name '[\w.]+'[^\n]{0,60}|Error: Cannot find module '[^']+'"
            r"|java\.lang\.(?:ClassNotFoundException|NoClassDefFoundError): [\w./$]+|error while loading shared libraries: [\w.+-]+: cannot open shared object file"
            r"|cannot load such file -- [\w./-]+|Can't locate [\w./]+ in @INC)"
        ),
    ),
    Signature(
        "port_in_use",
        "cause",
        84,
        "The process cannot listen: address already in use ({detail})",
        _re(
            r"(?P<detail>(?:bind|listen)[^\n]{0,40}address already in use(?: (?:[\w.\[\]*]*:)+\d{2,5}\b)?|EADDRINUSE[^\n]{0,40}|Address already in use)"
        ),
    ),
    Signature(
        "file_permission",
        "cause",
        84,
        "The process may not touch a file it needs: {detail} (the user the container runs as, runAsUser/fsGroup, or a dropped capability)",
        _re(
            r"(?P<detail>(?:chown|chmod|chgrp|mkdir|touch|cp|mv|ln|rm|install|tee|cat): (?:cannot [\w ]+ )?'?[/\w.-]+'?: (?:Operation not permitted|Permission denied)"
            r"|PermissionError: \[Errno (?:1|13)\] [^\n]{0,20}: '[^']+'|EACCES: permission denied, \w+ '[^']+'|EPERM: operation not permitted, \w+ '[^']+')"
        ),
    ),
    Signature(
        "resource_limit_files",
        "cause",
        80,
        "The process runs out of file descriptors (too many open files)",
        _re(r"too many open files|EMFILE"),
    ),
    Signature(
        "read_only_filesystem",
        "cause",
        82,
        "The process cannot write: read-only file system ({detail})",
        _re(r"(?P<detail>Read-only file system[^\n]{0,60}|EROFS[^\n]{0,60})"),
    ),
    Signature(
        "xds_unavailable",
        "cause",
        84,
        "The proxy cannot get its configuration from the control plane (xDS): {detail}",
        _re(
            r"(?P<detail>StreamAggregatedResources gRPC config stream (?:to \S+ )?closed[^\n]{0,80}|xds_cluster[^\n]{0,100}|gRPC config stream[^\n]{0,80}closed[^\n]{0,60}|"
            r"(?:xDS|XDS) (?:client|stream)[^\n]{0,40}(?:unavailable|failed|closed|error)[^\n]{0,60})"
        ),
    ),
    Signature(
        "grpc_unavailable",
        "cause",
        66,
        "A gRPC dependency is unavailable: {detail}",
        _re(r"(?P<detail>code = (?:Unavailable|DeadlineExceeded) desc = [^\n]{3,120})"),
    ),
    Signature(
        "broker_vhost_permission",
        "cause",
        86,
        "The message broker denies access: user {user} has no permission on vhost {vhost} (NOT_ALLOWED - access refused)",
        _re(r"NOT_ALLOWED - access to vhost '(?P<vhost>[^']+)' refused for user '(?P<user>[^']+)'"),
    ),
    Signature(
        "broker_auth_refused",
        "cause",
        84,
        "The message broker refuses the login: {detail}",
        _re(
            r"(?P<detail>ACCESS_REFUSED - Login was refused[^\n]{0,80}|NOT_ALLOWED - access to vhost '[^']+' refused for user '[^']+'|SASL authentication failed[^\n]{0,80}|Authentication failed during authentication due to invalid credentials with SASL mechanism \w+)"
        ),
    ),
    Signature(
        "kafka_broker_unresolved",
        "cause",
        82,
        "The Kafka client cannot resolve broker {host} (node {detail}): it is the address the broker advertises in the "
        "cluster metadata (advertised.listeners), not the bootstrap address, so the broker advertises a name this "
        "client cannot resolve",
        _re(r"Connection to node (?P<detail>-?\d+) \((?P<host>[\w.-]+)/<unresolved>:\d+\) could not be established"),
    ),
    Signature(
        "vault_kubernetes_auth_denied",
        "cause",
        84,
        "Vault refuses the pod's Kubernetes login: {detail}: the pod's service account or namespace is not among the "
        "Vault role's bound_service_account_names/bound_service_account_namespaces (a renamed service account, a wrong "
        "role), so the Vault agent cannot fetch secrets",
        _re(
            r"(?P<detail>service account (?:name|namespace) not authorized|namespace not authorized|"
            r"invalid role name \\?\"[\w.-]+\\?\"|role \\?\"[\w.-]+\\?\" could not be found)"
        ),
    ),
    Signature(
        "alertmanager_notify_failed",
        "cause",
        86,
        "Alertmanager cannot deliver notifications through {integration}: {detail}",
        _re(
            r"Notify for alerts failed[^\n]*?integration=(?P<integration>[\w\[\]-]+)[^\n]*?err=\"?(?P<detail>(?:\\\"|[^\"\n]){8,200})"
            r"|Notify for alerts failed[^\n]*?err=\"?(?P<integration2>[\w-]+/[\w-]+\[\d+\]): (?P<detail2>(?:\\\"|[^\"\n]){8,200})"
        ),
    ),
    Signature(
        "prometheus_rule_failed",
        "cause",
        84,
        "Prometheus fails to evaluate rule {rule}: {detail}",
        _re(
            r"Evaluating rule failed[^\n]*?rule=\"?(?:alert: |record: )?(?P<rule>[\w:]+)[^\n]*?err=\"?(?P<detail>(?:\\\"|[^\"\n]){8,200})"
        ),
    ),
    Signature(
        # Prometheus/Alertmanager (coordinator.go, main.go) refuse a changed config file and keep serving the old one
        "monitoring_config_rejected",
        "cause",
        88,
        "The new configuration file is rejected, so the previous configuration stays loaded (reloads keep failing): {detail}",
        _re(
            r"msg\"?[=:]\s*\"?(?:Loading configuration file failed|Error loading config|error reloading configuration|Error reloading config)[^\n]*?\berr\"?[=:]\s*\"?(?P<detail>(?:\\\"|[^\"\n]){8,220})"
            # JSON logs sort their keys: "err" comes before "msg"
            r"|\"err\":\s*\"(?P<detail2>(?:\\\"|[^\"\n]){8,220})\"[^\n]*?\"msg\":\s*\"(?:Loading configuration file failed|Error loading config|error reloading configuration|Error reloading config)"
        ),
    ),
    Signature(
        # a remote-write receiver (Mimir/Cortex/Thanos/VictoriaMetrics) throttling the tenant: 429 is retried, the queue falls behind
        "prometheus_remote_write_throttled",
        "cause",
        88,
        "Prometheus remote write to {remote} is throttled by the receiver (HTTP 429 Too Many Requests: {detail}), so samples are retried and the queue falls behind; the tenant's ingestion rate limit is lower than what Prometheus sends",
        _re(
            r"component=\"?remote\"?[^\n]*?remote_name=\"?(?P<remote>[\w.:/-]+)[^\n]*?msg=\"Failed to send batch[^\n]*?err=\"?server returned HTTP status 429[^:\n]*:?\s*(?P<detail>[^\"\n]{8,400})"
        ),
    ),
    Signature(
        # Prometheus' remote-write queue (component=remote): the receiving end refuses or fails the batches
        "prometheus_remote_write_failed",
        "cause",
        84,
        "Prometheus remote write to {remote} fails: {detail}",
        _re(
            r"component=\"?remote\"?[^\n]*?remote_name=\"?(?P<remote>[\w.:/-]+)[^\n]*?msg=\"(?:Failed to send batch|non-recoverable error)[^\n]*?err=\"?(?P<detail>(?:\\\"|[^\"\n]){8,220})"
        ),
    ),
    Signature(
        "webhook_signature",
        "cause",
        84,
        "Incoming webhooks are rejected because their signature does not verify ({detail}): the webhook signing secret the service uses does not match the sender's (a rotated or wrong secret)",
        _re(
            r"(?P<detail>No signatures found matching the expected signature for payload|Webhook signature verification failed|(?:invalid|bad|mismatched) (?:webhook |HMAC |request )?signature|X-Hub-Signature(?:-256)? (?:does not match|mismatch)|signature mismatch)"
        ),
    ),
    Signature(
        "kafka_unknown_topic",
        "cause",
        88,
        "The Kafka topic {topic} does not exist on the cluster the client talks to (UNKNOWN_TOPIC_OR_PARTITION: not present in metadata), so producing to or consuming from it fails",
        _re(
            r"Topic (?P<topic>[\w.-]+) not present in metadata|\{(?P<topic2>[\w.-]+)=UNKNOWN_TOPIC_OR_PARTITION\}"
            r"|Subscribed topic not available: (?P<topic3>[\w.-]+)"
            # the broker's UNKNOWN_TOPIC_OR_PARTITION (error code 3) on a structured line that names the topic
            r"|(?:does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION)[^\n]*?\btopic[\"']?\s*[:=]\s*[\"']?(?P<topic4>[\w.-]+)"
            r"|\btopic[\"']?\s*[:=]\s*[\"']?(?P<topic5>[\w.-]+)[^\n]*?(?:does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION)"
        ),
    ),
    Signature(
        # a dependency-injection container that cannot build a component: the provider/bean it needs is not
        # registered (NestJS/Angular, Spring, .NET, Guice); the name it lacks is the decisive detail
        "dependency_injection",
        "cause",
        86,
        "Dependency injection fails: no provider is registered for {dep}{needed}, so the component that needs it cannot be created",
        re.compile(
            r"can't resolve dependencies of the (?P<owner>\w+)[^\n]*?argument \"?(?P<dep>[\w$.-]+)\"? at index \[\d+\] is available in the (?P<module>\w+) context"
            r"|No qualifying bean of type '(?P<dep2>[\w$.]+)' available"
            r"|Unable to resolve service for type '(?P<dep3>[\w$.`\[\]]+)' while attempting to activate '(?P<owner2>[\w$.`\[\]]+)'"
            r"|No implementation for (?P<dep4>[\w$.<>]+) was bound"
        ),
    ),
    Signature(
        "kafka_poll_interval",
        "cause",
        84,
        "The Kafka consumer{group} is removed from its group: processing between two polls takes longer than max.poll.interval.ms, so the group rebalances",
        _re(
            r"(?:groupId=(?P<group>[\w.-]+)[^\n]*?)?(?:max\.poll\.interval\.ms|consumer poll timeout has expired|leaving group|Member \S+ sending LeaveGroup request|CommitFailedException)"
        ),
    ),
    Signature(
        "unexpanded_env",
        "cause",
        88,
        "An environment variable reference {ref} was not expanded: Kubernetes expands $(VAR) only for variables defined earlier in the container's env list",
        # at run time, not in a manifest: "value: ...$(VAR)..." is the syntax itself, not a failure
        _re(r"^(?!.*\bvalue:\s)(?!\s*-?\s*\$\().*?(?P<ref>\$\([A-Z][A-Z0-9_]*\))"),
    ),
    Signature(
        "missing_runtime",
        "cause",
        88,
        "The runtime the application needs is not in the image: {detail}",
        _re(
            r"(?P<detail>The framework '[\w.]+', version '[\d.]+'[^\n]{0,40} (?:was not found|could not be found)|Framework: '[\w.]+', version '[\d.]+'[^\n]{0,20}"
            r"|has been compiled by a more recent version of the Java Runtime \(class file version [\d.]+\)[^\n]{0,100}|GLIBC_[\d.]+' not found[^\n]{0,60})"
        ),
    ),
    Signature(
        "config_value_invalid",
        "cause",
        86,
        "Setting {var} is rejected: {line}",
        re.compile(
            r"\b(?P<var>[A-Z][A-Z0-9_]{2,}) (?:must be|must not be|is required|cannot be empty|is empty|is too short|is invalid|has an invalid)\b"
        ),
    ),
    Signature(
        "connection_refused",
        "cause",
        68,
        "Connections to {target} are refused",
        _re(
            rf"(?P<target>{_TARGET})[^\n]{{0,80}}?(?:connection refused|ECONNREFUSED|(?<!login )(?<!access )refused)"
            rf"|(?:ECONNREFUSED|refused)[^\n]{{0,40}}?(?P<target2>{_TARGET})"
            r"|server at \"(?P<host>[\w.-]+)\"[^\n]{0,40}?port (?P<port>\d+) failed: Connection refused"
            r"|connection refused|ECONNREFUSED"
        ),
    ),
    Signature(
        "connection_timeout",
        "cause",
        62,
        "Connections to {target} time out",
        _re(
            rf"(?P<target>{_TARGET})[^\n]{{0,60}}?(?:i/o timeout|timed out|timeout)"
            rf"|ETIMEDOUT\s+(?P<target2>{_TARGET})|(?:connect|connection) timed out|context deadline exceeded"
        ),
    ),
    Signature(
        "connection_reset",
        "cause",
        55,
        "Connections to {target} are reset",
        _re(
            rf"(?:read|write) tcp [\d.:]+->(?P<target>{_TARGET}): (?:read: )?connection reset by peer"
            r"|ECONNRESET|connection reset by peer|broken pipe"
        ),
    ),
    Signature(
        "http_5xx",
        "symptom",
        40,
        "HTTP 5xx responses",
        _re(
            r"\"\s*(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) [^\"]*\"\s+(?P<status>5\d\d)\b"
            r"|\b(?:status(?:_code)?|code)[=:\" ]+(?P<status2>5\d\d)\b|HTTP/\d(?:\.\d)?\"?\s+(?P<status3>5\d\d)\b"
            r"|upstream connect error|no healthy upstream|502 Bad Gateway|503 Service Unavailable|504 Gateway Time-?out"
        ),
    ),
    Signature(
        "panic",
        "cause",
        70,
        "The process crashes: {detail}",
        re.compile(
            r"\bpanic: (?P<detail>.{1,160})|fatal error: (?P<detail2>.{1,160})|thread '[^']+' panicked at (?P<detail3>.{1,160})"
            r"|(?P<detail4>Segmentation fault[^\n]{0,80}|SIGSEGV[^\n]{0,80}|Fatal Python error: [^\n]{1,120})"
        ),
    ),
    Signature(
        "exception",
        "cause",
        58,
        "Unhandled {exc}{detail}",
        re.compile(
            r"(?:^|\s|Caused by: )(?P<exc>(?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?:Error|Exception)): (?P<detail>.{1,200})"
            r"|(?:^|\s|Caused by: )(?P<exc2>(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception))\s*$"
        ),
    ),
)

_PREFILTER = re.compile(
    r"metadata|manifest|remote_name|loading|moved|too large|recovery|circuit|precondition|keeper|mvcc|max number of clients|primary|brokers|unique|e11000|duplicate|pg_hba|replication slot|allowed to connect|unknown_topic|topic|dependencies|qualifying bean|resolve service|was bound|signature|notify|evaluating rule|must be|must not|is required|cannot be empty|is empty|too short|not_allowed|vhost|poll|leavegroup|commitfailed|\$\(|framework|\.net|compiled|glibc|cannot find field|unknown field|not authorized|operation|denied|cluster_block|flood|read_only|maxmemory|replicas|flag|directive|keyword|option|emerg|"
    r"sqlalchemy|syntax|not found|interpreter|module|class|shared|in use|eaddrinuse|open files|emfile|read-only|erofs|xds|"
    r"grpc|desc =|refused|sasl|nxdomain|can't|bad address|"
    r"environ|env|config|setting|pars|lookup|resolv|getaddrinfo|name or service|nodename|unknownhost|x509|certif|ssl|tls|"
    r"pkix|issuer|password|access|auth|invalid|unauthori|forbidden|denied|noauth|wrongpass|signature|token|connection|pool|"
    r"jdbc|clients|max_conn|er_con|deadlock|lock wait|relation|column|table|undefined_|migration|database|server|link|"
    r"space|enospc|disk|memory|heap|oom|refused|dial|connect|timeout|timedout|deadline|reset|broken pipe|http|status|code|"
    r"upstream|bad gateway|unavailable|gateway|panic|fatal|segmentation|sigsegv|error|exception|keyerror",
    re.IGNORECASE,
)


def match_signatures(line: str) -> list[SignatureMatch]:
    """Every signature the line shows (a line can show a cause and its symptom)."""
    text = line[:4096]
    if not _PREFILTER.search(text):
        return []
    found: list[SignatureMatch] = []
    for signature in SIGNATURES:
        match = signature.pattern.search(text)
        if not match:
            continue
        groups = _merge_groups({k: v for k, v in match.groupdict().items() if v})
        if signature.kind == "exception":
            detail = groups.get("detail", "").split("\\n")[0].strip()  # a JSON-escaped stack trace ends the message
            groups["detail"] = f": {detail}" if detail else ""
        if signature.kind == "dependency_injection":
            owner, module = groups.get("owner"), groups.get("module")
            groups["needed"] = (f" (needed by {owner}" + (f" in {module}" if module else "") + ")") if owner else ""
        if (
            signature.kind
            in (
                "alertmanager_notify_failed",
                "prometheus_rule_failed",
                "prometheus_remote_write_failed",
                "monitoring_config_rejected",
            )
            and "detail" in groups
        ):
            groups["detail"] = groups["detail"].replace('\\"', '"')
        if signature.kind == "prometheus_remote_write_throttled":  # the limit, not the receiver's how-to-adjust text
            groups["detail"] = re.split(r"\.\s|\s\(err-", groups.get("detail", ""))[0].strip()
        if signature.kind == "db_hba_rejected":
            groups.setdefault("db", "any")
            encryption = groups.get("encryption", "")
            groups["encryption"] = f", {encryption}" if encryption else ""
            groups["hint"] = (
                " without SSL: the client connects unencrypted (sslmode=disable) where only hostssl rules admit it; "
                "connect with sslmode=require or add a matching host line"
                if encryption.lower() in ("no encryption", "ssl off")
                else ": add a line for this address, user and database, or connect from an admitted address"
            )
        if signature.kind == "kafka_record_too_large":
            groups["size"] = f" ({groups['bytes']} bytes > {groups['limit']})" if groups.get("bytes") else ""
        if signature.kind == "postgres_slot_missing":
            slot = groups.get("slot", "")
            groups["streaming"] = (
                " on the primary, so the standby cannot start WAL streaming and stays behind (create it with "
                f"pg_create_physical_replication_slot('{slot}') or fix primary_slot_name)"
                if groups.get("streaming")
                else " (dropped, or lost in a restore or failover), so the client that streams changes from it stops "
                "(re-create the slot, or let the client create it, and expect a gap to re-snapshot)"
            )
        if signature.kind == "kafka_poll_interval":
            groups["group"] = f" of group '{groups['group']}'" if groups.get("group") else ""
        groups["line"] = text.strip()[:160]
        found.append(SignatureMatch(signature, groups))
    return _prefer_specific(found)


def _merge_groups(groups: dict[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in sorted(groups.items()):
        base = key.rstrip("0123456789")
        merged.setdefault(base, value)
    if "host" in merged and "port" in merged and "target" not in merged:
        merged["target"] = f"{merged['host']}:{merged['port']}"
    return merged


_GENERIC = {"exception", "panic", "connection_timeout", "connection_reset", "invalid_config"}


# a signature that says more about the same failure than another one on its line
_SUBSUMES = {
    "oauth_client_rejected": {"auth_failure"},
    "db_permission_denied": {"auth_failure"},
    "prometheus_remote_write_throttled": {"prometheus_remote_write_failed"},
}


def _prefer_specific(found: list[SignatureMatch]) -> list[SignatureMatch]:
    """Drop generic matches (an exception wrapper, a timeout) when a specific signature explains the line."""
    covered = {kind for m in found for kind in _SUBSUMES.get(m.kind, ())}
    found = [m for m in found if m.kind not in covered]
    specific = [m for m in found if m.kind not in _GENERIC and m.signature.role == "cause"]
    if not specific:
        return found[:2]
    return [m for m in found if m.kind not in _GENERIC][:2]
