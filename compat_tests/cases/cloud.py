"""Cloud SDKs and SOAP: boto3 against a local S3-compatible server, zeep against a SOAP service.

Both peers answer 0.2 s after each request (compat_tests/peers/s3.py, soap.py), so one wait is
one API call whose time is the server's.
"""

from __future__ import annotations

from compat_tests.cases import Context, case


@case(
    "boto3",
    "S3 get_object answered in 0.2 s (moto server)",
    dists=("boto3", "botocore"),
    modules=("boto3",),
    peers=("s3",),
    fix=(
        "Patch `socket` and `ssl` (every profile but `none`) before boto3/botocore is imported: "
        "botocore sends through urllib3."
    ),
)
def boto3_get_object(ctx: Context):
    import boto3
    from botocore.config import Config

    s3 = ctx.peers["s3"]
    # One client for all waits, as apps share one: clients are thread-safe and pool connections.
    client = boto3.client(
        "s3",
        endpoint_url=s3["url"],
        region_name=s3["region"],
        aws_access_key_id=s3["aws_access_key_id"],
        aws_secret_access_key=s3["aws_secret_access_key"],
        config=Config(max_pool_connections=ctx.n, retries={"max_attempts": 1}),
    )

    def wait(i: int) -> None:
        response = client.get_object(Bucket=s3["bucket"], Key=s3["key"])
        assert response["Body"].read().decode() == s3["body"]

    return wait


@case(
    "zeep",
    "one SOAP call answered in 0.2 s",
    dists=("zeep",),
    modules=("zeep",),
    peers=("soap",),
    fix="Patch `socket` (every profile but `none`) before zeep is imported: it sends through "
    "requests.",
)
def zeep_call(ctx: Context):
    import zeep
    from zeep.transports import Transport

    # zeep reads the WSDL here (answered at once); each call is one POST through requests.
    client = zeep.Client(ctx.peers["soap"]["wsdl"], transport=Transport(timeout=30))

    def wait(i: int) -> None:
        text = f"wait {i}"
        assert client.service.Echo(text=text) == text

    return wait
