#!/usr/bin/env bash
# Regenerates Sources/OTLPProto/*.pb.swift from the OpenTelemetry proto files in Protos/otlp
# (Apache-2.0, Protos/otlp/LICENSE).
# Needs: protoc (Debian: protobuf-compiler) and packages resolved (swift package resolve).
# Usage: scripts/generate-otlp.sh [path-to-otlp-proto-root]   (default: Protos/otlp)
set -euo pipefail
cd "$(dirname "$0")/.."
PROTO_ROOT="${1:-Protos/otlp}"
OUT=Sources/OTLPProto
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
[ -d .build/checkouts/swift-protobuf ] || swift package resolve
swift build -c release --product protoc-gen-swift --package-path .build/checkouts/swift-protobuf \
    --scratch-path .build-protoc-gen-swift
PLUGIN="$(swift build -c release --product protoc-gen-swift --package-path .build/checkouts/swift-protobuf \
    --scratch-path .build-protoc-gen-swift --show-bin-path)/protoc-gen-swift"
find "$OUT" -name '*.pb.swift' -delete
protoc --plugin=protoc-gen-swift="$PLUGIN" \
    --swift_out="$OUT" --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
    -I "$PROTO_ROOT" \
    opentelemetry/proto/common/v1/common.proto \
    opentelemetry/proto/resource/v1/resource.proto \
    opentelemetry/proto/trace/v1/trace.proto \
    opentelemetry/proto/logs/v1/logs.proto \
    opentelemetry/proto/collector/trace/v1/trace_service.proto \
    opentelemetry/proto/collector/logs/v1/logs_service.proto
echo "generated: $(ls "$OUT"/*.pb.swift | wc -l) files in $OUT"
