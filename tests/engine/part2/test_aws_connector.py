"""AWS connector through boto3 against moto in server mode on loopback (real HTTP, real endpoints)."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from moto.server import ThreadedMotoServer

from engine.connectors import ToolFailure
from engine.connectors import aws as awsc
from tests.support.net import free_port

KEY_ID = "AKIAEXAMPLEKEY123456"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NOW = datetime.now(UTC).replace(microsecond=0)
RDS_HOST = "payments-db.c9akciq32.eu-west-1.rds.amazonaws.com"


@pytest.fixture(scope="module")
def moto_url():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws(moto_url):
    connector = awsc.AwsConnector.from_settings(
        {
            "region": "eu-west-1",
            "access_key_id": KEY_ID,
            "secret_access_key": SECRET,
            "timeout": 10,
            "log_groups": ["/shop/payments"],
        },
        endpoint_url=moto_url,
    )
    seed(connector)
    return connector


def seed(c):
    logs = c.client("logs")
    logs.create_log_group(logGroupName="/shop/payments")
    logs.create_log_stream(logGroupName="/shop/payments", logStreamName="payments-1")
    base = NOW - timedelta(minutes=10)
    logs.put_log_events(
        logGroupName="/shop/payments",
        logStreamName="payments-1",
        logEvents=[
            {
                "timestamp": int((base + timedelta(seconds=i)).timestamp() * 1000),
                "message": f"ERROR could not connect to server {RDS_HOST}:5432: Connection refused"
                if i % 2
                else "INFO charge ok",
            }
            for i in range(30)
        ],
    )
    cw = c.client("cloudwatch")
    cw.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "DatabaseConnections",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "payments-db"}],
                "Timestamp": NOW - timedelta(minutes=m),
                "Value": 20.0 if m < 5 else 6.0,
            }
            for m in range(1, 20)
        ],
    )
    rds = c.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="payments-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="password123",
        AllocatedStorage=20,
    )
    rds.stop_db_instance(DBInstanceIdentifier="payments-db")
    ec2 = c.client("ec2")
    c.instance_id = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.small",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "worker-1"}]}],
    )["Instances"][0]["InstanceId"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role = c.client("iam").create_role(RoleName="lambda", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    c.client("lambda").create_function(
        FunctionName="receipts",
        Runtime="python3.12",
        Handler="handler.handler",
        Role=role,
        Code={"ZipFile": buf.getvalue()},
    )
    ecs = c.client("ecs")
    ecs.create_cluster(clusterName="shop")
    ecs.register_container_instance(
        cluster="shop", instanceIdentityDocument=json.dumps({"instanceId": c.instance_id, "region": "eu-west-1"})
    )
    ecs.register_task_definition(
        family="inventory", containerDefinitions=[{"name": "app", "image": "inventory:1", "memory": 256}]
    )
    task = ecs.run_task(cluster="shop", taskDefinition="inventory", count=1, startedBy="test")["tasks"][0]
    ecs.stop_task(cluster="shop", task=task["taskArn"], reason="Essential container in task exited")


WINDOW = {"start": (NOW - timedelta(minutes=30)).isoformat(), "end": (NOW + timedelta(minutes=1)).isoformat()}


def test_cloudwatch_logs_are_filtered_and_attributed_to_the_log_groups_service(aws):
    result = awsc.get_cloudwatch_logs(aws, {**WINDOW, "filter_pattern": "Connection refused"})
    [doc] = result.observations.logs
    assert doc.pod == "payments"
    assert len(doc.lines) == 15
    assert doc.lines[0].endswith("eu-west-1.rds.amazonaws.com:5432: Connection refused")
    assert SECRET not in result.text
    assert KEY_ID not in result.text


def test_when_the_first_log_group_fills_the_limit_the_next_ones_are_not_asked(aws):
    result = awsc.get_cloudwatch_logs(aws, {**WINDOW, "log_groups": ["/shop/payments", "/shop/unknown"], "limit": 5})
    [doc] = result.observations.logs
    assert len(doc.lines) == 5


def test_cloudwatch_metrics_become_a_saturation_series(aws):
    result = awsc.get_cloudwatch_metrics(
        aws,
        {
            **WINDOW,
            "namespace": "AWS/RDS",
            "metric_name": "DatabaseConnections",
            "dimensions": {"DBInstanceIdentifier": "payments-db"},
            "period": 60,
            "stat": "Maximum",
        },
    )
    [series] = result.observations.series
    assert series.service == "payments-db"
    assert series.kind == "saturation"
    assert [v for _, v in series.points][-1] == 20.0
    assert "max 20" in result.text


def test_a_stopped_rds_instance_is_an_unhealthy_target(aws):
    result = awsc.get_rds_instance_status(aws, {"db_instance_identifier": "payments-db"})
    [state] = result.observations.target_states
    assert not state.healthy
    assert state.description == "RDS instance payments-db is stopped"
    assert state.cite.startswith("[tool:get_rds_instance_status] RDS payments-db (postgres")


def test_ec2_lambda_and_ecs_describe_calls_report_state(aws):
    ec2 = awsc.describe_ec2_instance(aws, {"instance_id": aws.instance_id})
    assert ec2.observations.target_states[0].healthy
    assert "worker-1" in ec2.text
    fn = awsc.describe_lambda_function(aws, {"function_name": "receipts"})
    assert "Lambda receipts (python3.12" in fn.text
    ecs = awsc.list_ecs_tasks(aws, {"cluster": "shop"})
    assert "STOPPED: Essential container in task exited" in ecs.text


def test_an_ecs_failure_names_ecs(aws):
    with pytest.raises(ToolFailure, match=r"^AWS ECS returned ClusterNotFoundException for list_tasks$"):
        awsc.list_ecs_tasks(aws, {"cluster": "nope"})


def test_unknown_resources_fail_with_the_aws_error_code_only(aws):
    with pytest.raises(ToolFailure) as err:
        awsc.get_rds_instance_status(aws, {"db_instance_identifier": "nope"})
    assert err.value.message == "AWS RDS returned DBInstanceNotFound for describe_db_instances"


def test_an_unreachable_endpoint_is_reported_as_unreachable():
    dead = awsc.AwsConnector.from_settings(
        {"region": "eu-west-1", "access_key_id": KEY_ID, "secret_access_key": SECRET, "timeout": 1},
        endpoint_url="http://127.0.0.1:9",
    )
    with pytest.raises(ToolFailure) as err:
        awsc.get_rds_instance_status(dead, {"db_instance_identifier": "payments-db"})
    assert err.value.unreachable
    assert SECRET not in err.value.message


def test_insights_queries_run_to_completion(aws):
    result = awsc.query_cloudwatch_insights(aws, {**WINDOW, "query": "fields @timestamp, @message | limit 5"})
    assert result.text
