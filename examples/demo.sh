#!/usr/bin/env bash
# A tour of mindmem on a throwaway memory repo. Needs `mm` on PATH (`make demo` puts it there).
# Each step prints the command it runs, then its output.
set -euo pipefail

examples="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
demo_dir="$(mktemp -d "${TMPDIR:-/tmp}/mindmem-demo.XXXXXX")"
trap 'rm -rf "$demo_dir"' EXIT
# A known identity for the demo's commits, whatever this machine's git config says.
export GIT_AUTHOR_NAME="Demo User" GIT_AUTHOR_EMAIL="demo@example.com"
export GIT_COMMITTER_NAME="Demo User" GIT_COMMITTER_EMAIL="demo@example.com"
export MM_AUTHOR="demo"
unset MM_REPO MM_ROOT MM_MODE MM_GOVERNED_BRANCH
cd "$demo_dir"

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# Print a command the way you would type it.
show() {
  local arg out="$"
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then out+=" $arg"; else out+=" '${arg//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "$out"
}
run() { show "$@"; "$@"; }
# Run a command that prints one ID, print the command and the ID, and keep the ID in the variable named first.
keep() {
  local var=$1
  shift
  show "$@" >&2
  printf -v "$var" '%s' "$("$@")"
  printf '%s\n' "${!var}"
}
new() { local var=$1; shift; keep "$var" mm new "$@"; }

step "A project repo with some history"
run git init -q -b main project
cd project
echo "print('billing')" > billing.py
git add billing.py && git commit -q -m "billing service"
run git log --oneline

step "Set up mindmem in it, as one commit of its own"
run mm init --commit
run git log --oneline

step "Add memory: an entity, a fact, a decision citing the fact, a task depending on the decision"
new project project -t "Billing"
new fact fact -t "Billing events peak at 2000/s" --set subject="$project" \
  --set predicate=peak_rate --set object=2000/s --set tags=[billing,load] \
  -b "Measured on the production dashboard over November."
new decision decision -t "Store billing events in PostgreSQL" --set subject="$project" \
  --set "constraint={axis: storage.engine, scope: $project, modality: must, object: postgresql}" \
  --set tags=[billing,storage] --set valid_from=2026-11-25 --edge cites:"$fact" \
  -b "The peak load in [[$fact]] fits one PostgreSQL primary."
new task task -t "Migrate the event store" --set due=2027-01-15 --edge depends_on:"$decision" \
  -b "Move the tables, then switch the writers."

step "List and show them"
run mm list
run mm list --type decision --tag billing
run mm show "$decision"
run mm show "$task" --json

step "Check the files: schema, then canonical form"
run mm validate
run mm fmt --check

step "Commit, change a block, and read the past straight from git objects"
run git add memory
run git commit -q -m "Billing memory"
sed -i.bak 's/^status: todo$/status: doing/' "memory/tasks/$task.md" && rm "memory/tasks/$task.md.bak"
run mm list --type task
run mm list --type task --at HEAD

step "A malformed block is refused, naming the file and line; nothing is written"
printf -- '---\nid: N-20261125-0bad00\ntype: note\ntitle: [unclosed\nstatus: active\ncreated: 2026-11-25\n---\n' \
  > memory/notes/N-20261125-0bad00.md
show mm list
if mm list; then echo "expected mm list to refuse the malformed block" >&2; exit 1; else echo "(exit $?)"; fi
rm memory/notes/N-20261125-0bad00.md

step "The graph: what a block links to, what rests on it, how two blocks connect"
run mm graph expand "$decision"
run mm graph impact "$fact"
run mm graph path "$fact" "$task"

step "Supersede the decision, then compile the truth about the project, now and one commit ago"
new newer decision -t "Store billing events in partitioned PostgreSQL tables" --set subject="$project" \
  --edge supersedes:"$decision" --edge cites:"$fact"
sed -i.bak 's/^status: active$/status: superseded/' "memory/decisions/$decision.md" && rm "memory/decisions/$decision.md.bak"
run git add memory
run git commit -q -m "Partition the event store"
run mm truth "$project"
run mm truth "$project" --at HEAD~1

step "Git hooks: a commit that contradicts memory is refused"
run mm hooks install
new queue decision -t "Queue billing events in Kafka" --set subject="$project" --set created=2026-11-01T09:00:00Z \
  --set "constraint={axis: queue.engine, scope: $project, modality: must, object: kafka}"
run git add memory
run git commit -q -m "Queue billing events in Kafka"
new offkafka decision -t "Do not use Kafka for billing events" --set subject="$project" \
  --set "constraint={axis: queue.engine, scope: $project, modality: must_not, object: kafka}"
run git add memory
show git commit -q -m "Move billing events off Kafka"
if git commit -q -m "Move billing events off Kafka"; then
  echo "expected the pre-commit hook to refuse the contradicting block" >&2
  exit 1
else
  echo "(refused, exit $?)"
fi

step "Fix it as the finding says: the newer decision supersedes the older one; now the commit goes through"
run mm check --staged --fix
run git add memory
run git commit -q -m "Move billing events off Kafka"

step "The review packet of that commit, as a pull-request comment shows it"
run mm review HEAD~1..HEAD --format markdown

step "Governance: a team memory repo in enforce mode, with a fresh ssh key as its one approver"
cd "$demo_dir"
export MM_HOME="$demo_dir/mm-home" # no personal mindmem settings (signing_key) in the way
unset MM_SIGNING_KEY MM_SIGNING_FORMAT
run ssh-keygen -q -t ed25519 -N '' -C demo@example.com -f "$demo_dir/approver_key"
run git init -q -b main team-memory
cd team-memory
run git config user.name "Demo User"
run git config user.email demo@example.com
run git config gpg.format ssh
run git config user.signingkey "$demo_dir/approver_key"
run mm init --mode enforce --signing ssh --commit
run git config gpg.ssh.allowedSignersFile "$PWD/.mindmem/allowed_signers"
run tail -n 1 .mindmem/allowed_signers
propose() { local var=$1; shift; keep "$var" mm propose "$@"; }

step "Propose a decision: the new block leaves the work tree and waits on a proposal branch"
new pg decision -t "Store billing events in PostgreSQL" --set tags=[billing,storage]
propose first -r "Agreed in the storage review"
run git status --short
run mm proposals
run mm diff "$first"

step "Approve it: a signed merge commit on main that git itself verifies"
run mm approve "$first" -r "Matches the load test"
run git log --oneline --graph -3
run git verify-commit HEAD

step "Propose a note and reject it: the reason stays on rejected/P-…"
propose second -r "Seen once during the load test" --add note --set title="The staging database is shared with QA"
run mm reject "$second" -r "Not true any more: QA has its own database since October"
run mm proposals --all

step "Supersede the decision, approve, then roll that approval back with a reason"
propose kafka -r "Ops already runs Kafka" --add decision --set title="Store billing events in Kafka" \
  --supersede "$pg"
run mm approve "$kafka"
run mm rollback "$kafka" -r "Kafka retention costs too much; back to PostgreSQL"
run mm list --type decision

step "The governance chain, newest first, and the check CI runs"
run mm audit
run mm verify

step "Recall in the project repo: every mode answers from committed memory on main"
cd "$demo_dir/project"
new outage incident -t "Billing events dropped at peak load" --edge depends_on:"$fact" \
  -b "Writers timed out at 2000/s and events were lost for ten minutes."
new backpressure task -t "Add backpressure to the billing writer" --edge derived_from:"$outage"
run git add memory
run git commit -q -m "Outage and its fix"
run mm index status
run mm recall "where do billing events live?" -k 3
run mm recall "billing events are stored in PostgreSQL" --mode verify
run mm recall "what did we decide about the billing queue?" --mode intent -k 3
run mm recall "billing events lost at peak" --mode diagnose -k 1
run mm recall "billing event store" --mode bundle -k 1

step "Recall as of an older commit: before the supersede, the first storage decision answers"
before=$(git log --format=%h -1 --grep='^Billing memory$')
run mm recall "store billing events" -k 2
run mm recall "store billing events" -k 2 --at "$before"
run mm truth "$project"

step "Extraction: a meeting transcript becomes one proposal (rules, no model)"
cd "$demo_dir/team-memory"
run mm extract "$examples/meeting.md" --reference-date 2026-11-24 --dry-run
keep extracted mm extract "$examples/meeting.md" --reference-date 2026-11-24 -r "Billing sync notes, 24 Nov"
run mm approve "$extracted" -r "Notes match what we agreed"

step "Imports: a mind-mem workspace and a folder of Markdown notes, each one proposal; re-importing adds nothing"
for source in "mind-mem $examples/mind-mem-workspace" "markdown $examples/notes-vault"; do
  read -r kind path <<<"$source"
  keep imported mm import "$kind" "$path" -r "Moving our old memory in"
  run mm approve "$imported"
done
show mm import markdown "$examples/notes-vault" -r "The same notes again"
mm import markdown "$examples/notes-vault" -r "The same notes again" || true

step "Ask in plain words: one dispatcher call, answered with the block IDs it cites"
run mm ask "why did the nightly export time out?"
run mm ask "is it true that the export job runs on Kubernetes?"
run mm ask "list open tasks"

step "An agent over MCP: it recalls and proposes; a person approves with mm approve"
run python "$examples/agent_session.py" "$PWD"

step "Done: the demo repo in $demo_dir is removed on exit"
