#!/bin/sh
# One-shot set-up of the document store, run by the `minio-init` service (image minio/mc) before the app starts.
# Idempotent: running it again on a set-up store changes nothing.
#
# - the bucket KYHOP_S3_BUCKET, private (tablets read through short-lived signed URLs only);
# - the app's own access key KYHOP_S3_ACCESS_KEY / KYHOP_S3_SECRET_KEY, allowed to read and write that bucket
#   and nothing else: the app never holds MinIO's root credentials.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${KYHOP_S3_BUCKET:?}"
: "${KYHOP_S3_ACCESS_KEY:?}" "${KYHOP_S3_SECRET_KEY:?}"
ENDPOINT="${MINIO_ENDPOINT:-http://minio:9000}"
POLICY="kyhop-app"

mc alias set store "$ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null

mc mb --ignore-existing "store/$KYHOP_S3_BUCKET"
mc anonymous set none "store/$KYHOP_S3_BUCKET"

# Only shell built-ins and mc below: the mc image is a minimal one (no grep, no mktemp to rely on).
policy_file="${TMPDIR:-/tmp}/$POLICY.json"
printf '%s\n' '{' \
    '  "Version": "2012-10-17",' \
    '  "Statement": [' \
    '    {"Effect": "Allow",' \
    '     "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],' \
    "     \"Resource\": [\"arn:aws:s3:::$KYHOP_S3_BUCKET\"]}," \
    '    {"Effect": "Allow",' \
    '     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",' \
    '                "s3:ListMultipartUploadParts"],' \
    "     \"Resource\": [\"arn:aws:s3:::$KYHOP_S3_BUCKET/*\"]}" \
    '  ]' \
    '}' >"$policy_file"
# `policy create` replaces a policy of the same name; `user add` sets the secret of an existing user again.
mc admin policy create store "$POLICY" "$policy_file"
mc admin user add store "$KYHOP_S3_ACCESS_KEY" "$KYHOP_S3_SECRET_KEY"
# Attaching a policy that is already attached is an error ("already in effect"): look first.
info="$(mc admin user info store "$KYHOP_S3_ACCESS_KEY")"
case "$info" in
    *"$POLICY"*) ;;
    *) mc admin policy attach store "$POLICY" --user "$KYHOP_S3_ACCESS_KEY" ;;
esac

echo "Kho tài liệu sẵn sàng: bucket $KYHOP_S3_BUCKET. / Document store ready: bucket $KYHOP_S3_BUCKET."
