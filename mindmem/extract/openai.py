"""The `openai` backend: an OpenAI-compatible chat completions server the user runs or names
(llama.cpp's server, vLLM, Ollama), asked for JSON-schema output. Standard library only.

Nothing is sent anywhere unless a URL is configured: `url` (`--url`), `$MM_OPENAI_URL`, or
`[openai] url` in the user config. The URL is the API base, e.g. http://localhost:11434/v1;
`/chat/completions` is appended.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping

from mindmem.errors import BadInput, BadParameter, ConfigError
from mindmem.extract.chunking import Messages, ModelExtractor, Reply
from mindmem.store.config import user_config


class OpenAIExtractor(ModelExtractor):
    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        url: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_tokens: int = 2048,
        chunk_tokens: int = 1024,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(max_tokens=max_tokens, chunk_tokens=chunk_tokens)
        env = os.environ if env is None else env
        section = user_config(env).get("openai") or {}
        if not isinstance(section, dict):
            raise ConfigError("[openai] in the user config must be a table (url, model, api_key)")
        self.url = url or env.get("MM_OPENAI_URL") or section.get("url")
        self.model = model or env.get("MM_OPENAI_MODEL") or section.get("model")
        if not self.url:
            raise ConfigError(
                "the openai backend has no server: pass --url http://localhost:11434/v1, set MM_OPENAI_URL, "
                "or put url under [openai] in config.toml in MM_HOME (see docs/models.md)"
            )
        if not str(self.url).startswith(("http://", "https://")):
            raise ConfigError(f"openai url {self.url!r} must start with http:// or https://")
        if not self.model:
            raise BadParameter("the openai backend needs a model name: {model}, MM_OPENAI_MODEL or [openai] model")
        self.endpoint = str(self.url).rstrip("/") + "/chat/completions"
        self.api_key = api_key or env.get("MM_OPENAI_API_KEY") or section.get("api_key")
        self.timeout = timeout

    def complete(self, messages: Messages, reply: Reply) -> str:
        request = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": reply.max_tokens(self.max_tokens),
            "stream": False,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "mindmem_extraction", "strict": True, "schema": reply.schema()},
            },
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.endpoint, json.dumps(request).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise BadInput(f"{self.endpoint} answered HTTP {exc.code}: {detail}") from None
        except TimeoutError:
            raise BadInput(f"{self.endpoint} did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise BadInput(f"{self.endpoint} did not answer within {self.timeout:g} s") from None
            raise BadInput(f"cannot reach {self.endpoint}: {exc.reason} (is the server running?)") from None
        try:
            reply = json.loads(body)
            choice = reply["choices"][0]
            content, finish = choice["message"]["content"], choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError):
            raise BadInput(f"{self.endpoint} did not answer like a chat completions endpoint: {body[:120]!r}") from None
        if finish != "stop":
            raise BadInput(
                f"the model's output was truncated (finish reason {finish!r}): raise max_tokens (now {self.max_tokens})"
            )
        if not isinstance(content, str):
            raise BadInput(f"{self.endpoint} sent no message content")
        return content
