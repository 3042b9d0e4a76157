#!/usr/bin/env bash
# Regenerates Sources/Telemetry/Generated/*.pb.swift from the OpenTelemetry proto files.
# Needs: protoc (Debian: protobuf-compiler) and packages resolved (swift package resolve).
# Usage: scripts/generate-otlp.sh [path-to-otlp-proto-root]   (default: ../shared/otlp-proto)
set -euo pipefail
cd "$(dirname "$0")/.."
PROTO_ROOT="${1:-../shared/otlp-proto}"
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
    opentelemetry/proto/collector/trace/v1/trace_service.proto
echo "generated: $(ls "$OUT"/*.pb.swift | wc -l) files in $OUT"
