"""The `llama-cpp` backend: a local GGUF through llama-cpp-python, output held to the schema by a grammar.

- The prompt is the GGUF's own chat template (llama-cpp-python's Jinja2 chat formatter), rendered
  with `enable_thinking=False` so Qwen3-family templates answer without a thinking block.
- A GBNF grammar (`mindmem.extract.grammar`) holds every token to the reply's shape: keys in order,
  edges only to earlier candidates or listed blocks, line numbers of the chunk, no control characters.
- Any finish reason but "stop" is a failure (a cut-off reply is never half-used), and every reply
  is validated (`schema.validate_reply`).
- One `Llama` per model per process, and the same system prompt first in every call: llama.cpp
  keeps the evaluated prefix in its KV cache and only evaluates what follows it.
"""

from __future__ import annotations

import atexit
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from mindmem.errors import BadInput, BadParameter
from mindmem.extract.chunking import Messages, ModelExtractor, Reply, model_path
from mindmem.extract.gguf import read_info

# llama-cpp-python's string character rule. It admits raw control characters, and escapes
# (\f, \b, \u0007) that decode to them.
_STOCK_CHAR = r'char ::= [^"\\] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])'
# Ours: no control characters (C0, DEL, C1), raw or escaped, except newline and tab escapes in a body;
# other strings are one line. Any other character is written as itself (UTF-8), not as \u.
_CHAR_RULES = (
    r'char ::= [^"\\\x00-\x1F\x7F-\x9F] | "\\" (["\\/nt])',
    r'line-char ::= [^"\\\x00-\x1F\x7F-\x9F] | "\\" (["\\/])',
)
MULTILINE_RULES = ("body",)
_CHAR_REF = re.compile(r"(?<![\w-])char(?![\w-])")
# `(char (char (char)?)?)?`: up to three chars, as the converter spells a maxLength.
_NESTED_CHARS = re.compile(r"\(char(?: \(char)*\)\?(?:\)\?)*")
# (model path, n_ctx, threads, extra buffers) -> Llama
_LOADED: dict[tuple[str, int, int, bool], Any] = {}


def schema_grammar(schema: Mapping[str, Any]) -> str:
    """GBNF for a JSON schema: strings closed to control characters, long repetitions compact.

    llama-cpp-python writes `maxLength: 160` as 160 nested optional groups, which llama.cpp's parser
    refuses past a few hundred (and then crashes on the missing grammar); `char{0,160}` is the same
    language in the parser's own repetition syntax.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    out = []
    for line in json_schema_to_gbnf(json.dumps(schema)).splitlines():
        name = line.split(" ::= ", 1)[0]
        if name == "char":
            if line != _STOCK_CHAR:
                # A new llama-cpp-python changed the rule: refuse rather than run with an unknown hole.
                raise BadInput(f"unexpected string rule from llama-cpp-python's grammar converter: {line}")
            out += _CHAR_RULES
            continue
        line = _NESTED_CHARS.sub(lambda m: f"char{{0,{m.group(0).count('(char')}}}", line)
        if name not in MULTILINE_RULES:
            line = name + " ::= " + _CHAR_REF.sub("line-char", line.split(" ::= ", 1)[1])
        out.append(line)
    return "\n".join(out)


class LlamaExtractor(ModelExtractor):
    name = "llama-cpp"

    def __init__(
        self,
        model: str | None = None,
        url: str | None = None,
        *,
        n_ctx: int | None = None,
        max_tokens: int = 2048,
        chunk_tokens: int = 1024,
        threads: int | None = None,
        extra_buffers: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(max_tokens=max_tokens, chunk_tokens=chunk_tokens)
        if url:
            raise BadParameter("the llama-cpp backend runs a local GGUF; {url} is for the openai backend")
        path = model_path(model, env)
        info = read_info(path)  # a clear error for a file that is not GGUF, before llama.cpp reads it
        if info.chat_template is None:
            raise BadInput(f"{path.name} has no chat template (tokenizer.chat_template); use an instruct model")
        try:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError:
            raise BadInput("the llama-cpp backend needs llama-cpp-python: pip install 'mindmem[llm]'") from None
        self.n_ctx = n_ctx or min(info.context_length or 4096, 8192)
        if self.chunk_tokens + self.max_tokens > self.n_ctx:
            raise BadInput(
                f"chunk_tokens ({self.chunk_tokens}) + max_tokens ({self.max_tokens}) do not fit "
                f"the context ({self.n_ctx} tokens)"
            )
        # One thread per physical core (llama-cpp-python's default); more threads than free cores stall.
        self.llm = _load(str(path.resolve()), self.n_ctx, threads or max(1, (os.cpu_count() or 2) // 2), extra_buffers)
        self.formatter = Jinja2ChatFormatter(
            template=info.chat_template,
            eos_token=self._piece(self.llm.token_eos()),
            bos_token=self._piece(self.llm.token_bos()),
        )

    def _piece(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", "replace") if token >= 0 else ""

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def render(self, messages: Messages) -> str:
        """The GGUF's chat template applied, generation prompt added, thinking off (Qwen3)."""
        return self.formatter(messages=messages, enable_thinking=False).prompt

    def prompt_tokens(self, messages: Messages) -> list[int]:
        """The rendered prompt tokenized; the template brings its own BOS, if it wants one."""
        return self.llm.tokenize(self.render(messages).encode("utf-8"), add_bos=False, special=True)

    def complete(self, messages: Messages, reply: Reply) -> str:
        return self.generate(messages, reply.grammar(), reply.max_tokens(self.max_tokens))

    def complete_json(self, messages: Messages, schema: Mapping[str, Any], max_tokens: int | None = None) -> str:
        """A reply held to a JSON schema (the model router's calls, hybrid's labels), in at most
        `max_tokens` (default: the backend's)."""
        return self.generate(messages, schema_grammar(schema), min(max_tokens or self.max_tokens, self.max_tokens))

    def generate(self, messages: Messages, grammar: str, max_tokens: int) -> str:
        from llama_cpp import LlamaGrammar

        tokens = self.prompt_tokens(messages)
        if len(tokens) + max_tokens > self.n_ctx:
            raise BadInput(
                f"the prompt is {len(tokens)} tokens; with max_tokens {max_tokens} it does not fit "
                f"the context of {self.n_ctx}: lower chunk_tokens or raise n_ctx"
            )
        held = LlamaGrammar.from_string(grammar, verbose=False)
        before = self._perf()
        out = self.llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0, grammar=held)
        spent = {key: value - before[key] for key, value in self._perf().items()}
        self.last_usage = {**out["usage"], **spent, "max_tokens": max_tokens}
        choice = out["choices"][0]
        if choice["finish_reason"] != "stop":
            raise BadInput(
                f"the model's output was truncated (finish reason {choice['finish_reason']!r} after "
                f"{out['usage']['completion_tokens']} tokens): raise max_tokens (now {max_tokens})"
            )
        return choice["text"]

    def _perf(self) -> dict[str, float]:
        """llama.cpp's running counters: prompt tokens it evaluated (those after the prefix its KV cache
        already held) and tokens it generated, with their milliseconds; a call's figures are differences."""
        from llama_cpp import llama_cpp as lib

        found = lib.llama_perf_context(self.llm._ctx.ctx)
        return {
            "prompt_evaluated": found.n_p_eval,
            "prompt_ms": found.t_p_eval_ms,
            "generated": found.n_eval,
            "generate_ms": found.t_eval_ms,
        }


def _load(path: str, n_ctx: int, threads: int, extra_buffers: bool) -> Any:
    """One Llama per model per process: loading is slow, and its KV cache keeps the shared prompt prefix."""
    key = (path, n_ctx, threads, extra_buffers)
    if key not in _LOADED:
        from llama_cpp import Llama
        from llama_cpp import llama_cpp as lib

        if not _LOADED:
            # Free models before the interpreter tears llama_cpp down, or its finalizer fails noisily.
            atexit.register(_close_all)
        defaults = lib.llama_model_default_params

        def params() -> Any:
            # llama.cpp's extra CPU buffer types (AMX, repacked weights) crash on quantised models on
            # some virtual machines (a segfault at the first decode, seen with Q4_1 where the CPU
            # reports AMX). Llama() has no argument for it; its defaults are read at load time.
            found = defaults()
            found.use_extra_bufts = extra_buffers
            return found

        lib.llama_model_default_params = params
        try:
            _LOADED[key] = Llama(
                model_path=path, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False
            )
        except ValueError as exc:
            raise BadInput(f"llama.cpp could not load {os.path.basename(path)}: {exc}") from None
        finally:
            lib.llama_model_default_params = defaults
    return _LOADED[key]


def _close_all() -> None:
    while _LOADED:
        _LOADED.popitem()[1].close()
