"""The words a generated corpus is made of: names, projects, tools, axes, phrasings (data only)."""

from __future__ import annotations

# fmt: off
FIRST = (
    "alice", "bruno", "chen", "dana", "emeka", "fatima", "gustav", "hana", "ivan", "jia", "kofi", "lena", "mateo",
    "nadia", "oskar", "priya", "quinn", "rosa", "sami", "tomas", "uma", "victor", "wen", "ximena", "yusuf", "zoe",
    "aiko", "bilal", "carmen", "diego", "elif", "farah", "goran", "helga", "ines", "jonas", "kira", "luca", "mira",
    "noah"
)
LAST = (
    "nguyen", "okafor", "schmidt", "tanaka", "garcia", "kowalski", "haddad", "silva", "novak", "ivanova", "mensah",
    "larsen", "rossi", "kim", "dubois", "fischer", "patel", "moreau", "jensen", "costa", "yilmaz", "berg", "ali",
    "lopez", "weber", "sato", "murphy", "horvat", "santos", "kaur"
)
ROLES = (
    "staff engineer",
    "backend engineer",
    "SRE",
    "engineering manager",
    "product manager",
    "data engineer",
    "security engineer",
    "frontend engineer",
    "tech lead",
)
TIMEZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Europe/Lisbon", "America/Sao_Paulo")
PROJECTS = (
    "billing", "search", "checkout", "identity", "notifications", "ledger", "reporting", "mobile-app",
    "web-frontend", "data-pipeline", "payments", "inventory", "analytics", "auth-gateway", "docs-site", "ranking",
    "feature-flags", "edge-proxy", "scheduler", "warehouse", "onboarding", "pricing", "fraud-detection",
    "support-portal", "media-service"
)
PROJECT_SUFFIXES = ("api", "worker", "ui", "etl", "sync", "admin", "export", "v2")
# slug, display name, aliases (aliases are unique across the whole corpus)
TOOLS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("postgresql", "PostgreSQL", ("postgres", "pg")),
    ("redis", "Redis", ()),
    ("kafka", "Apache Kafka", ()),
    ("kubernetes", "Kubernetes", ("k8s",)),
    ("terraform", "Terraform", ("tf",)),
    ("github-actions", "GitHub Actions", ("gha",)),
    ("sentry", "Sentry", ()),
    ("grafana", "Grafana", ()),
    ("prometheus", "Prometheus", ("prom",)),
    ("mysql", "MySQL", ()),
    ("rabbitmq", "RabbitMQ", ("rabbit",)),
    ("elasticsearch", "Elasticsearch", ("es",)),
    ("opensearch", "OpenSearch", ()),
    ("dynamodb", "DynamoDB", ("ddb",)),
    ("sqlite", "SQLite", ()),
    ("envoy", "Envoy", ()),
    ("docker", "Docker", ()),
    ("helm", "Helm", ()),
    ("argocd", "Argo CD", ("argo",)),
    ("vault", "HashiCorp Vault", ()),
    ("datadog", "Datadog", ("dd",)),
    ("pagerduty", "PagerDuty", ("pd",)),
    ("celery", "Celery", ()),
    ("pytest", "pytest", ()),
    ("ruff", "Ruff", ()),
    ("fastapi", "FastAPI", ()),
    ("django", "Django", ()),
    ("react", "React", ()),
    ("typescript", "TypeScript", ("ts",)),
    ("grpc", "gRPC", ()),
    ("graphql", "GraphQL", ("gql",)),
    ("airflow", "Apache Airflow", ()),
    ("dbt", "dbt", ()),
    ("clickhouse", "ClickHouse", ()),
    ("duckdb", "DuckDB", ()),
    ("memcached", "Memcached", ()),
    ("cloudflare", "Cloudflare", ("cf",)),
    ("keycloak", "Keycloak", ()),
    ("stripe", "Stripe", ()),
    ("launchdarkly", "LaunchDarkly", ("ld",)),
    ("jenkins", "Jenkins", ()),
    ("bazel", "Bazel", ()),
    ("playwright", "Playwright", ()),
    ("opentelemetry", "OpenTelemetry", ("otel",)),
    ("jaeger", "Jaeger", ()),
    ("minio", "MinIO", ()),
    ("nats", "NATS", ()),
    ("temporal", "Temporal", ()),
    ("cockroachdb", "CockroachDB", ("crdb",)),
    ("sops", "SOPS", ()),
)
ORGS = (
    "acme", "globex", "initech", "umbrella-labs", "hooli", "stark-industries", "wayne-enterprises", "tyrell",
    "cyberdyne", "soylent", "wonka", "aperture", "vandelay", "pied-piper", "massive-dynamic", "oscorp", "monarch"
)
# fmt: on
ORG_SUFFIXES = ("cloud", "labs", "security", "consulting", "eu", "us")

# axis: (what it is about, possible objects). Project axes are scoped to a PRJ, org axes to an ORG,
# so a project decision and an org decision never share an axis.
PROJECT_AXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "storage.engine": ("the primary datastore", ("postgresql", "mysql", "dynamodb", "sqlite", "cockroachdb")),
    "cache.engine": ("caching", ("redis", "memcached", "in-process-lru")),
    "queue.broker": ("async messaging", ("kafka", "rabbitmq", "sqs", "nats")),
    "api.auth": ("API authentication", ("oauth2", "mtls", "api-keys", "jwt-hs256")),
    "api.style": ("the public API style", ("rest", "graphql", "grpc")),
    "api.versioning": ("API versioning", ("url-path", "accept-header", "date-header")),
    "deploy.target": ("the deploy target", ("kubernetes", "ecs", "lambda", "plain-vms")),
    "ci.runner": ("CI", ("github-actions", "gitlab-ci", "jenkins", "buildkite")),
    "lang.runtime": ("the runtime", ("python-3.12", "go-1.22", "node-20", "java-21")),
    "observability.tracing": ("tracing", ("opentelemetry", "jaeger-client", "vendor-agent")),
    "test.framework": ("tests", ("pytest", "jest", "go-test", "playwright")),
    "search.engine": ("search", ("elasticsearch", "opensearch", "postgres-fts", "meilisearch")),
    "serialization.format": ("wire format", ("json", "protobuf", "avro")),
    "feature.flags": ("feature flags", ("launchdarkly", "unleash", "config-file")),
}
ORG_AXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "deploy.region": ("hosting regions", ("eu-west-1", "us-east-1", "eu-central-1", "ap-southeast-2")),
    "security.secrets": ("secret storage", ("vault", "aws-secrets-manager", "sops")),
    "license.policy": ("third-party licenses", ("agpl-dependencies", "gpl-dependencies", "unlicensed-code")),
    "data.retention": ("data retention", ("30-days", "90-days", "1-year")),
    "code.review": ("code review", ("two-approvals", "one-approval", "owner-approval")),
}
MODALITY_WORDS = {
    "must": "Use",
    "should": "Prefer",
    "may": "Allow",
    "must_not": "Do not use",
    "should_not": "Avoid",
}
PROCESS_DECISIONS = (
    "Hold a weekly on-call handover for {p}",
    "Require an ADR for schema changes in {p}",
    "Freeze deploys of {p} during quarter-end close",
    "Rotate {p} credentials every 90 days",
    "Keep {p} feature branches under two days",
    "Run {p} game days every quarter",
    "Page the {p} owner only for customer-facing alerts",
)
# predicate: (phrase, kind of object). Every predicate has one value at a time, so two active
# facts with the same subject and predicate and different objects are a contradiction.
FACT_PREDICATES: dict[str, dict[str, tuple[str, str]]] = {
    "PRJ": {
        "owned_by": ("is owned by", "PER"),
        "deploys_to": ("deploys to", "region"),
        "primary_database": ("keeps its data in", "TOOL"),
        "slo_availability": ("has an availability SLO of", "slo"),
        "p99_latency_budget": ("has a p99 latency budget of", "latency"),
        "language": ("is written in", "language"),
        "on_call_channel": ("pages on-call in", "channel"),
    },
    "TOOL": {
        "pinned_version": ("is pinned to version", "version"),
        "license": ("is licensed under", "license"),
        "maintained_by": ("is maintained by", "PER"),
    },
    "PER": {
        "role": ("works as", "role"),
        "team": ("is on the team of", "PRJ"),
        "timezone": ("works in timezone", "timezone"),
    },
}
FACT_VALUES: dict[str, tuple[str, ...]] = {
    "region": ("eu-west-1", "us-east-1", "eu-central-1", "ap-southeast-2"),
    "slo": ("99.5%", "99.9%", "99.95%", "99.99%"),
    "latency": ("150ms", "250ms", "400ms", "800ms"),
    "language": ("python", "go", "typescript", "java", "kotlin"),
    "license": ("Apache-2.0", "MIT", "BSD-3-Clause", "MPL-2.0", "proprietary"),
    "role": ROLES,
    "timezone": TIMEZONES,
}
TASKS = (
    "Migrate {p} to {t}",
    "Add contract tests for the {p} API",
    "Upgrade {t} in {p}",
    "Write a failover runbook for {p}",
    "Remove dead feature flags in {p}",
    "Add tracing to the {p} request path",
    "Backfill {p} events for {m}",
    "Load test {p} at twice the peak",
    "Rotate {p} service credentials",
    "Document {p} data retention",
)
TASK_STATUSES = (("done", 0.45), ("todo", 0.2), ("doing", 0.15), ("blocked", 0.1), ("canceled", 0.1))
INCIDENTS = (
    "{p} latency spike after {t} upgrade",
    "{p} outage: connection pool exhausted",
    "Duplicate {p} events during failover",
    "{t} certificate expired in {p}",
    "{p} queue backlog after deploy",
    "Stale reads in {p} after {t} failover",
)
NOTES = (
    "Weekly sync: {p}",
    "Design review: {p} {topic}",
    "Notes from {person} on {t}",
    "Retro: {p}, {m}",
    "Onboarding notes for {p}",
    "Reading notes: {t} internals",
)
CODE_SPANS = (
    "`retry_budget = 3`",
    "`SELECT ... FOR UPDATE SKIP LOCKED`",
    "`max_connections=200`",
    "`kubectl rollout undo`",
    "`idempotency_key`",
    "`timeout=2.5`",
    "`EXPLAIN ANALYZE`",
    "`@retry(stop=stop_after_attempt(3))`",
    "`PYTHONHASHSEED=0`",
    "`git bisect`",
)
FENCES = (
    "```yaml\nreplicas: 3\nresources:\n  limits: {cpu: 500m, memory: 512Mi}\n```",
    "```python\nasync def handle(event):\n    await store.put(event.id, event, idempotent=True)\n```",
    "```sql\nCREATE INDEX CONCURRENTLY idx_events_created ON events (created_at);\n```",
    "```bash\nmake migrate && make smoke-test\n```",
)
FILLER = (
    "The numbers come from the last two weeks of production traffic.",
    "Nobody objected in the review; two people asked for a rollback plan.",
    "This only holds while traffic stays below the current peak.",
    "We measured this on the staging cluster with production-like data.",
    "The previous setup was chosen when the team was three people.",
    "Cost is roughly flat; operational load goes down.",
    "We revisit this when the next major version ships.",
)
MODULES = ("store", "api", "handlers", "models", "config", "retry", "auth", "jobs", "client", "schema")
EXTS = ("py", "go", "ts")
