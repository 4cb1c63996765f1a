#!/usr/bin/env python3
"""Azure Database for PostgreSQL server logs (category PostgreSQLLogs),
made from the primary's real stderr log, in Azure Monitor's two shapes:

- azure-flexible.json: rows of the Log Analytics table AzureDiagnostics
  from a flexible server, one JSON object per line as a query's result is
  exported: the whole server line in `Message`.
- azure-flexible-query.json: the same rows as `az monitor log-analytics
  query` prints them: one JSON array, indented.
- azure-single.json: resource logs of a single server as diagnostic
  settings archive them to a storage account: the server line split into
  `properties.prefix`, `properties.errorLevel` and `properties.message`.

Azure's own log_line_prefix (`%t-%c-`) differs; the primary's is kept,
which prefix detection reads the same way."""

import itertools
import json
import re

import envelope as env

SUB = "00000000-0000-0000-0000-000000000000"
LEVEL = re.compile(r"^(.*?)(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|"
                   r"DETAIL|HINT|QUERY|CONTEXT|LOCATION|STATEMENT):  ")


def resource_id(kind, name):
    return (f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/PGLOG/PROVIDERS/"
            f"MICROSOFT.DBFORPOSTGRESQL/{kind}/{name}")


def flexible():
    counter = itertools.count()
    for text, time, pid in env.messages(env.sample("primary/postgresql.log")):
        level = LEVEL.match(text)
        yield json.dumps({
            "TenantId": SUB,
            "TimeGenerated": env.iso(time, 3),
            "ResourceId": resource_id("FLEXIBLESERVERS", "PRIMARY"),
            "Category": "PostgreSQLLogs",
            "ResourceProvider": "MICROSOFT.DBFORPOSTGRESQL",
            "ResourceType": "FLEXIBLESERVERS",
            "OperationName": "LogEvent",
            "LogicalServerName_s": "primary",
            "Message": text,
            "errorLevel_s": level.group(2) if level else "",
            "processId_d": pid,
            "sqlerrcode_s": "",
            "_ItemId": f"{next(counter):08x}",
            "Type": "AzureDiagnostics",
        }, separators=(",", ":"))


def single():
    for text, time, pid in env.messages(env.sample("primary/postgresql.log")):
        level = LEVEL.match(text)
        yield json.dumps({
            "time": env.iso(time, 7),
            "resourceId": resource_id("SERVERS", "PRIMARY"),
            "category": "PostgreSQLLogs",
            "operationName": "LogEvent",
            "properties": {
                "prefix": level.group(1),
                "message": text[level.end():],
                "detail": "",
                "errorLevel": level.group(2),
                "domain": "postgres-15",
                "schemaName": "",
                "tableName": "",
                "columnName": "",
                "datatypeName": "",
            },
        }, separators=(",", ":"))


env.write("azure-flexible.json", flexible())
env.write("azure-flexible-query.json",
          json.dumps([json.loads(r) for r in flexible()], indent=2).split("\n"))
env.write("azure-single.json", single())
