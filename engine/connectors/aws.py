"""AWS connector through boto3: CloudWatch Logs (filter and Insights), CloudWatch metrics, and
EC2/RDS/Lambda/ECS describe calls.

Credentials come from the resolved team config (``aws``: region, assume_role, external_id, access_key_id,
secret_access_key; ``cloudwatch``: region, log_groups, using the aws credentials). They are handed to boto3
and never appear in tool params, texts or errors. Without explicit keys, the only way in is a role assumed with
an external id (the server's identity asks for it, as AWS's cross-account pattern intends); boto3's default
chain (the server's own identity) serves a team only when the caller marks the settings ``ambient_credentials``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from engine.analyzers.changes import ChangeKind
from engine.analyzers.metrics import MetricKind
from engine.connectors import ToolFailure
from engine.connectors.http import timeout_from
from engine.connectors.loki import ERROR_WORDS, LogRecord, records_to_result
from engine.connectors.params import iso, limit, window
from engine.facts import ChangeFact, Observations, SeriesFact, TargetStateFact
from engine.registry import ToolResult, connector, probe, tool

MAX_LOG_EVENTS = 5000
MAX_PAGES = 20


class AwsConnector:
    """Lazily built boto3 clients sharing one session, region, endpoint and timeouts."""

    def __init__(
        self,
        session: Any,
        *,
        region: str,
        timeout: float = 30.0,
        endpoint_url: str | None = None,
        log_groups: list[str] | None = None,
    ) -> None:
        self.session = session
        self.region = region
        self.endpoint_url = endpoint_url
        self.log_groups = list(log_groups or [])
        self.config = Config(
            region_name=region,
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        self._clients: dict[str, Any] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any],
        *,
        credentials: Mapping[str, Any] | None = None,
        endpoint_url: str | None = None,
    ) -> AwsConnector:
        creds = credentials if credentials is not None else settings
        region = str(settings.get("region") or creds.get("region") or "us-east-1")
        keys = bool(creds.get("access_key_id") and creds.get("secret_access_key"))
        role = creds.get("assume_role")
        external_id = creds.get("external_id") or None
        ambient = settings.get("ambient_credentials") is True or creds.get("ambient_credentials") is True
        if not keys and not ambient and not (role and external_id):
            raise ToolFailure("AWS needs an access key or a role to assume with an external id", unreachable=True)
        session = boto3.session.Session(
            aws_access_key_id=creds.get("access_key_id") if keys else None,
            aws_secret_access_key=creds.get("secret_access_key") if keys else None,
            region_name=region,
        )
        if role:
            session = _assumed(session, str(role), region, endpoint_url, external_id=external_id)
        groups = settings.get("log_groups")
        return cls(
            session,
            region=region,
            timeout=timeout_from(settings),
            endpoint_url=endpoint_url,
            log_groups=[str(g) for g in groups] if isinstance(groups, list) else None,
        )

    def search(
        self, *, text: str | None, service: str | None, start: float, end: float, limit: int, errors: bool = False
    ) -> list[LogRecord]:
        """CloudWatch Logs as the team's log source (the log tools read it as they read Loki).

        A service reads its own log groups (those whose last path segment is its name), else every configured
        group; the text and the error words become a filter pattern, and failing lines are also checked here
        because CloudWatch's terms are case-sensitive.
        """
        if not self.log_groups:
            raise ToolFailure("CloudWatch has no log groups configured (cloudwatch.log_groups)", unreachable=True)
        own = [g for g in self.log_groups if service and _group_name(g) == service]
        records = filter_events(
            self,
            own or self.log_groups,
            start=start,
            end=end,
            wanted=min(limit, MAX_LOG_EVENTS),
            pattern=log_filter_pattern(text, errors),
            service=service if own and service else "",
        )
        if errors:
            records = [r for r in records if ERROR_LINE.search(r.message)]
        records.sort(key=lambda r: -r.timestamp)
        return records

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=self.config, endpoint_url=self.endpoint_url)
        return self._clients[service]

    def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """One API call with AWS errors turned into ToolFailures that name the service, not the account."""
        try:
            return getattr(self.client(service), operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Error")
            raise ToolFailure(f"AWS {_NAMES.get(service, service)} returned {code} for {operation}") from exc
        except NoCredentialsError as exc:
            raise ToolFailure("AWS credentials are missing") from exc
        except EndpointConnectionError as exc:
            raise ToolFailure(f"Unable to connect to AWS {_NAMES.get(service, service)}", unreachable=True) from exc
        except BotoCoreError as exc:
            raise ToolFailure(f"AWS {_NAMES.get(service, service)} call {operation} failed", unreachable=True) from exc


_NAMES = {
    "sts": "STS",
    "logs": "CloudWatch Logs",
    "cloudwatch": "CloudWatch",
    "ec2": "EC2",
    "rds": "RDS",
    "lambda": "Lambda",
    "ecs": "ECS",
}


def _assumed(session: Any, role: str, region: str, endpoint_url: str | None, *, external_id: str | None) -> Any:
    extra = {"ExternalId": external_id} if external_id else {}
    try:
        sts = session.client("sts", region_name=region, endpoint_url=endpoint_url)
        creds = sts.assume_role(RoleArn=role, RoleSessionName="incidentfox-investigation", **extra)["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        raise ToolFailure("AWS could not assume the configured role") from exc
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


@connector("aws")
def connect_aws(settings: Mapping[str, Any]) -> AwsConnector:
    return AwsConnector.from_settings(settings)


@connector("cloudwatch")
def connect_cloudwatch(settings: Mapping[str, Any]) -> AwsConnector:
    # The runner hands cloudwatch the aws credentials under "aws" when both are configured.
    aws = settings.get("aws")
    return AwsConnector.from_settings(settings, credentials=aws if isinstance(aws, Mapping) else None)


@probe("aws")
@probe("cloudwatch")
def check_aws(aws: AwsConnector) -> str:
    """The credentials are accepted: STS names the account they act in."""
    identity = aws.call("sts", "get_caller_identity")
    account = identity.get("Account", "?") if isinstance(identity, dict) else "?"
    return f"AWS answered: signed in to account {account} in {aws.region}"


ERROR_LINE = re.compile("|".join(re.escape(word) for word in ERROR_WORDS), re.IGNORECASE)


def log_filter_pattern(text: str | None, errors: bool) -> str | None:
    """A CloudWatch Logs filter pattern: the text as one quoted term, else any error word in its usual casings."""
    if text:
        return '"' + text.replace('"', "") + '"'
    if not errors:
        return None
    terms = dict.fromkeys(form for word in ERROR_WORDS for form in (word, word.capitalize(), word.upper()))
    return " ".join(f'?"{term}"' for term in terms)


def _group_name(group: str) -> str:
    return group.rstrip("/").rsplit("/", 1)[-1]


def _ms(ts: float) -> int:
    return int(ts * 1000)


def _dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _groups(aws: AwsConnector, params: Mapping[str, Any]) -> list[str]:
    given = params.get("log_group") or params.get("log_groups")
    groups = [given] if isinstance(given, str) else list(given or aws.log_groups)
    if not groups:
        raise ToolFailure("No CloudWatch log group given and none configured (cloudwatch.log_groups)")
    return [str(g) for g in groups]


def filter_events(
    aws: AwsConnector, groups: list[str], *, start: float, end: float, wanted: int, pattern: str | None, service: str
) -> list[LogRecord]:
    """``FilterLogEvents`` over each group in turn, following ``nextToken``, until ``wanted`` events."""
    records: list[LogRecord] = []
    for group in groups:
        if len(records) >= wanted:  # an earlier group filled the limit (CloudWatch refuses limit=0)
            break
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": _ms(start), "endTime": _ms(end)}
        if pattern:
            kwargs["filterPattern"] = pattern
        owner = service or _group_name(group)
        for _ in range(MAX_PAGES):
            page = aws.call("logs", "filter_log_events", limit=min(10_000, wanted - len(records)), **kwargs)
            for event in page.get("events", []):
                records.append(LogRecord(event["timestamp"] / 1000.0, owner, str(event.get("message", ""))))
            token = page.get("nextToken")
            if not token or len(records) >= wanted or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token
    return records[:wanted]


@tool("get_cloudwatch_logs")
def get_cloudwatch_logs(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    start, end = window(params)
    records = filter_events(
        aws,
        _groups(aws, params),
        start=start,
        end=end,
        wanted=limit(params, default=500, maximum=MAX_LOG_EVENTS),
        pattern=str(params["filter_pattern"]) if params.get("filter_pattern") else None,
        service=str(params.get("service") or ""),
    )
    return records_to_result(records, "get_cloudwatch_logs")


@tool("query_cloudwatch_insights")
def query_cloudwatch_insights(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    query = str(params.get("query", "")).strip() or "fields @timestamp, @message | sort @timestamp desc | limit 200"
    start, end = window(params)
    started = aws.call(
        "logs",
        "start_query",
        logGroupNames=_groups(aws, params),
        startTime=int(start),
        endTime=int(end),
        queryString=query,
        limit=limit(params, default=200, maximum=10_000),
    )
    deadline = time.monotonic() + float(params.get("wait_seconds", 20))
    while True:
        result = aws.call("logs", "get_query_results", queryId=started["queryId"])
        status = result.get("status")
        if status in {"Complete", "Failed", "Cancelled", "Timeout"}:
            break
        if time.monotonic() > deadline:
            aws.call("logs", "stop_query", queryId=started["queryId"])
            raise ToolFailure("CloudWatch Logs Insights query did not finish in time")
        time.sleep(0.5)
    if status != "Complete":
        raise ToolFailure(f"CloudWatch Logs Insights query ended as {status}")
    rows = [{f["field"]: f["value"] for f in row if "field" in f} for row in result.get("results", [])]
    text = "\n".join(" ".join(f"{k}={v}" for k, v in row.items() if k != "@ptr") for row in rows)
    return ToolResult(text=text or "no results", data=rows)


_METRIC_KINDS = {
    "DatabaseConnections": MetricKind.SATURATION,
    "CPUUtilization": MetricKind.SATURATION,
    "FreeableMemory": MetricKind.SATURATION,
    "Errors": MetricKind.ERROR_RATIO,
    "HTTPCode_Target_5XX_Count": MetricKind.ERROR_RATIO,
    "TargetResponseTime": MetricKind.LATENCY_P99,
    "Duration": MetricKind.LATENCY_P99,
    "ReadLatency": MetricKind.LATENCY_P99,
    "WriteLatency": MetricKind.LATENCY_P99,
    "RequestCount": MetricKind.REQUEST_RATE,
}


@tool("get_cloudwatch_metrics")
def get_cloudwatch_metrics(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    namespace = str(params.get("namespace", ""))
    metric = str(params.get("metric_name", ""))
    if not namespace or not metric:
        raise ToolFailure("get_cloudwatch_metrics needs a namespace and a metric_name")
    dims = params.get("dimensions") or {}
    start, end = window(params)
    period = int(params.get("period", 60))
    stat = str(params.get("stat", "Average"))
    query: dict[str, Any] = {
        "Id": "m0",
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": str(k), "Value": str(v)} for k, v in dims.items()],
            },
            "Period": period,
            "Stat": stat,
        },
    }
    points: list[tuple[float, float]] = []
    kwargs: dict[str, Any] = {
        "MetricDataQueries": [query],
        "StartTime": datetime.fromtimestamp(start, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
        "ScanBy": "TimestampAscending",
    }
    for _ in range(MAX_PAGES):
        page = aws.call("cloudwatch", "get_metric_data", **kwargs)
        for res in page.get("MetricDataResults", []):
            points.extend((ts.timestamp(), float(v)) for ts, v in zip(res["Timestamps"], res["Values"], strict=False))
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    points.sort()
    service = str(params.get("service") or next(iter(dims.values()), metric))
    kind = str(params.get("kind") or _METRIC_KINDS.get(metric, MetricKind.GENERIC).value)
    obs = Observations()
    if points:
        obs.series.append(
            SeriesFact(
                service=service,
                kind=kind,
                points=points,
                metric=f"{namespace} {metric} {stat}",
                cite="[tool:get_cloudwatch_metrics]",
                smoothing_seconds=float(period),
            )
        )
    values = [v for _, v in points]
    text = (
        f"{namespace} {metric} {stat} for {service}: {len(values)} points, min {min(values):.4g}, "
        f"max {max(values):.4g}, last {values[-1]:.4g} at {iso(points[-1][0])}"
        if values
        else f"no datapoints for {namespace} {metric}"
    )
    return ToolResult(text=text, observations=obs)


@tool("describe_ec2_instance")
def describe_ec2_instance(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    instance_id = str(params.get("instance_id", ""))
    if not instance_id:
        raise ToolFailure("describe_ec2_instance needs an instance_id")
    reservations = aws.call("ec2", "describe_instances", InstanceIds=[instance_id]).get("Reservations", [])
    instances = [i for r in reservations for i in r.get("Instances", [])]
    if not instances:
        raise ToolFailure(f"EC2 instance {instance_id} was not found")
    inst = instances[0]
    state = inst.get("State", {}).get("Name", "unknown")
    statuses = aws.call("ec2", "describe_instance_status", InstanceIds=[instance_id], IncludeAllInstances=True).get(
        "InstanceStatuses", []
    )
    checks = statuses[0] if statuses else {}
    system = checks.get("SystemStatus", {}).get("Status", "unknown")
    instance = checks.get("InstanceStatus", {}).get("Status", "unknown")
    name = next((t["Value"] for t in inst.get("Tags", []) if t.get("Key") == "Name"), instance_id)
    reason = inst.get("StateTransitionReason") or ""
    kind = inst.get("InstanceType", "")
    line = f"EC2 {name} ({instance_id}) {kind} is {state}; system {system}, instance {instance}"
    if reason:
        line += f"; {reason}"
    healthy = state == "running" and system in {"ok", "initializing", "unknown"} and instance != "impaired"
    obs = Observations(
        target_states=[
            TargetStateFact(
                target=name,
                healthy=healthy,
                description=f"EC2 instance {name} is {state} (system {system}, instance {instance})",
                cite=f"[tool:describe_ec2_instance] {line}",
            )
        ]
    )
    return ToolResult(text=line, observations=obs)


@tool("get_rds_instance_status")
def get_rds_instance_status(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    identifier = str(params.get("db_instance_identifier") or params.get("instance") or "")
    if not identifier:
        raise ToolFailure("get_rds_instance_status needs a db_instance_identifier")
    dbs = aws.call("rds", "describe_db_instances", DBInstanceIdentifier=identifier).get("DBInstances", [])
    if not dbs:
        raise ToolFailure(f"RDS instance {identifier} was not found")
    db = dbs[0]
    status = db.get("DBInstanceStatus", "unknown")
    endpoint = db.get("Endpoint", {}) or {}
    line = (
        f"RDS {identifier} ({db.get('Engine', '')} {db.get('EngineVersion', '')}, "
        f"{db.get('DBInstanceClass', '')}) "
        f"status {status}; endpoint {endpoint.get('Address', '-')}:{endpoint.get('Port', '-')}"
    )
    obs = Observations(
        target_states=[
            TargetStateFact(
                target=identifier,
                healthy=status == "available",
                description=f"RDS instance {identifier} is {status}",
                cite=f"[tool:get_rds_instance_status] {line}",
            )
        ]
    )
    return ToolResult(text=line, observations=obs, data=db)


@tool("describe_lambda_function")
def describe_lambda_function(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    name = str(params.get("function_name", ""))
    if not name:
        raise ToolFailure("describe_lambda_function needs a function_name")
    cfg = aws.call("lambda", "get_function_configuration", FunctionName=name)
    state = cfg.get("State", "Active")
    update = cfg.get("LastUpdateStatus", "Successful")
    modified = cfg.get("LastModified", "")
    line = (
        f"Lambda {name} ({cfg.get('Runtime', '')}, {cfg.get('MemorySize', '?')} MB, "
        f"timeout {cfg.get('Timeout', '?')} s)"
        f" state {state}, last update {update} at {modified}"
    )
    obs = Observations(
        target_states=[
            TargetStateFact(
                target=name,
                healthy=state == "Active" and update != "Failed",
                description=f"Lambda {name} is {state} (last update {update})",
                cite=f"[tool:describe_lambda_function] {line}",
            )
        ]
    )
    modified_at = _lambda_time(modified)
    if modified_at is not None:
        obs.changes.append(
            ChangeFact(
                timestamp=modified_at,
                kind=ChangeKind.CONFIG.value,
                service=name,
                description=f"Lambda {name} code or configuration updated",
                cite=f"[tool:describe_lambda_function] {line}",
            )
        )
    return ToolResult(text=line, observations=obs)


def _lambda_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    except ValueError:
        return None


@tool("list_ecs_tasks")
def list_ecs_tasks(aws: AwsConnector, params: dict[str, Any]) -> ToolResult:
    cluster = str(params.get("cluster") or "default")
    service = params.get("service")
    arns: list[str] = []
    for desired in ("RUNNING", "STOPPED"):
        kwargs: dict[str, Any] = {"cluster": cluster, "desiredStatus": desired}
        if service:
            kwargs["serviceName"] = str(service)
        arns.extend(aws.call("ecs", "list_tasks", **kwargs).get("taskArns", []))
    tasks = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=arns[:100]).get("tasks", []) if arns else []
    obs = Observations()
    lines = []
    for task in tasks:
        short = str(task.get("taskArn", "")).rsplit("/", 1)[-1]
        last = task.get("lastStatus", "")
        reason = task.get("stoppedReason") or ""
        group = str(task.get("group", "")).removeprefix("service:") or str(service or cluster)
        line = f"ECS task {short} ({group}) {last}" + (f": {reason}" if reason else "")
        lines.append(line)
        if last == "STOPPED" and reason:
            obs.target_states.append(
                TargetStateFact(
                    target=group,
                    healthy=False,
                    description=f"ECS task of {group} stopped: {reason}",
                    timestamp=_dt(task.get("stoppedAt")),
                    cite=f"[tool:list_ecs_tasks] {line}",
                )
            )
    return ToolResult(text="\n".join(lines) or f"no tasks in ECS cluster {cluster}", observations=obs)
