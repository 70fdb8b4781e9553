"""The `ctransformers` backend: llama-family GGUFs through ctransformers (extra `ctransformers`).

ctransformers ships prebuilt binaries but knows only the llama architecture among GGUFs
(not qwen2, qwen3, phi3, gemma ...) and has no grammar support: the architecture is read
with the `gguf` package before loading, and each reply is parsed and validated strictly,
a reply that is not valid JSON being a clear error. Prefer the llama-cpp backend.
"""

from __future__ import annotations

from collections.abc import Mapping

from mindmem.errors import BadInput, BadParameter
from mindmem.extract.chunking import Messages, ModelExtractor, Reply, model_path
from mindmem.extract.gguf import read_info

SUPPORTED_ARCHITECTURES = ("llama",)


class CTransformersExtractor(ModelExtractor):
    name = "ctransformers"

    def __init__(
        self,
        model: str | None = None,
        url: str | None = None,
        *,
        max_tokens: int = 2048,
        chunk_tokens: int = 1024,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(max_tokens=max_tokens, chunk_tokens=chunk_tokens)
        if url:
            raise BadParameter("the ctransformers backend runs a local GGUF; {url} is for the openai backend")
        path = model_path(model, env)
        info = read_info(path)
        if info.architecture not in SUPPORTED_ARCHITECTURES:
            raise BadInput(
                f"ctransformers loads llama-family GGUFs only; {path.name} is a {info.architecture} model. "
                "Use --backend llama-cpp (pip install 'mindmem[llm]')"
            )
        if info.chat_template is None:
            raise BadInput(f"{path.name} has no chat template (tokenizer.chat_template); use an instruct model")
        try:
            from ctransformers import AutoModelForCausalLM
            from jinja2.sandbox import ImmutableSandboxedEnvironment
        except ImportError:
            raise BadInput("the ctransformers backend needs: pip install 'mindmem[ctransformers]'") from None
        context = min(info.context_length or 4096, 8192)
        if self.chunk_tokens + self.max_tokens > context:
            raise BadInput(f"chunk_tokens + max_tokens do not fit the context ({context} tokens)")
        try:
            self.llm = AutoModelForCausalLM.from_pretrained(
                str(path), model_type="llama", context_length=context, gpu_layers=0
            )
        except (OSError, RuntimeError, ValueError) as exc:
            raise BadInput(f"ctransformers could not load {path.name}: {exc}") from None
        self.template = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(
            info.chat_template
        )

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text))

    def complete(self, messages: Messages, reply: Reply) -> str:
        # BOS comes from the tokenizer; thinking is off should a template know the switch.
        prompt = self.template.render(
            messages=messages, add_generation_prompt=True, bos_token="", eos_token="", enable_thinking=False
        )
        out: list[int] = []
        for token in self.llm.generate(self.llm.tokenize(prompt), top_k=1, temperature=0.01):
            out.append(token)
            if len(out) >= self.max_tokens:
                raise BadInput(f"the model's output was truncated after {len(out)} tokens: raise max_tokens")
        # generate() ends at the end-of-sequence token, which it does not yield.
        return self.llm.detokenize(out)
