# Oracle for test/avro-oracle.test.ts: Debian's python3-avro decides reader/writer compatibility.
# Reads JSON lines {"reader": schema, "writer": schema}; writes one JSON line per input:
# {"compatible": bool} or {"error": "..."} when the Python parser rejects a schema.
import json
import sys
import warnings

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

warnings.simplefilter("ignore")

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    pair = json.loads(line)
    try:
        reader = avro.schema.parse(json.dumps(pair["reader"]))
        writer = avro.schema.parse(json.dumps(pair["writer"]))
    except Exception as err:  # a schema this parser rejects: reported, not judged
        print(json.dumps({"error": str(err)}))
        continue
    result = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
    print(json.dumps({"compatible": result.compatibility is SchemaCompatibilityType.compatible}))
sys.stdout.flush()
