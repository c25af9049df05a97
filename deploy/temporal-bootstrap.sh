#!/bin/sh
# The namespace and the project's search attributes, with the `temporal` CLI from
# temporalio/admin-tools, once the server answers (after samples-server's create-namespace.sh).
# Re-runnable: an existing namespace gets its retention set again (so changing
# TEMPORAL_NAMESPACE_RETENTION and re-running the job applies it); an existing search attribute of
# the same type is left alone, one of another type fails the job. The worker never needs the
# operator rights this takes: in production it only checks the attributes are there.
set -eu
: "${TEMPORAL_ADDRESS:?the frontend, host:port}" "${TEMPORAL_NAMESPACE:?the namespace}"
: "${TEMPORAL_NAMESPACE_RETENTION:?how long closed workflows are kept, e.g. 2190d}"
attributes=${SEARCH_ATTRIBUTES_FILE:-/deploy/search-attributes.txt}
attempts=${BOOTSTRAP_ATTEMPTS:-30}

# The client profile (mTLS, API key) is optional: without its file the CLI connects in plain text.
[ -f "${TEMPORAL_CONFIG_FILE:-}" ] || unset TEMPORAL_CONFIG_FILE

cli() { temporal "$@" --address "$TEMPORAL_ADDRESS"; }

attempt=1
until cli operator cluster health >/dev/null 2>&1; do
  [ "$attempt" -ge "$attempts" ] && { echo "bootstrap: server not healthy after $attempts attempts" >&2; exit 1; }
  attempt=$((attempt + 1))
  sleep 5
done

if cli operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  cli operator namespace update --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"
  echo "bootstrap: namespace $TEMPORAL_NAMESPACE exists; retention $TEMPORAL_NAMESPACE_RETENTION"
else
  cli operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_NAMESPACE_RETENTION"
  echo "bootstrap: namespace $TEMPORAL_NAMESPACE created; retention $TEMPORAL_NAMESPACE_RETENTION"
fi

# A new namespace takes a moment to reach every service; adding attributes retries until it has.
grep -v '^#' "$attributes" | while read -r name type; do
  [ -n "$name" ] || continue
  attempt=1
  until cli operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"; do
    [ "$attempt" -ge "$attempts" ] && { echo "bootstrap: could not add search attribute $name" >&2; exit 1; }
    attempt=$((attempt + 1))
    sleep 2
  done
done
echo "bootstrap: done"
