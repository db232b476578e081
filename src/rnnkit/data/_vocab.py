"""`Vocabulary`: tokens (characters, letters, phonemes) <-> integer ids, saved as JSON with a model."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rnnkit.data._errors import DataError


@dataclass(frozen=True)
class Vocabulary:
    """An ordered list of distinct tokens; a token's id is its position.

    ``specials`` (e.g. an end-of-sequence or padding symbol) come first, in the order given, so
    their ids are fixed whatever the data; the data's own tokens follow in sorted order.
    """

    tokens: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        tokens = tuple(self.tokens)
        if not tokens:
            raise DataError("a vocabulary needs at least one token")
        if not all(isinstance(t, str) and t for t in tokens):
            raise DataError(f"vocabulary tokens must be non-empty strings, got {list(tokens)[:10]}")
        if len(set(tokens)) != len(tokens):
            repeated = sorted({t for t in tokens if tokens.count(t) > 1})
            raise DataError(f"vocabulary tokens must be distinct; repeated: {repeated}")
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(tokens)})

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], specials: Sequence[str] = ()) -> Vocabulary:
        """The specials, then every distinct token of ``sequences`` in sorted order."""
        seen = {token for sequence in sequences for token in sequence}
        return cls(tuple(specials) + tuple(sorted(seen - set(specials))))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def id(self, token: str) -> int:
        """The id of one token (a ``DataError`` naming it when it is not in the vocabulary)."""
        return self.encode([token])[0]

    def encode(self, sequence: Iterable[str], where: str = "input") -> list[int]:
        """Ids of the tokens of ``sequence``; unknown tokens are one ``DataError`` that lists them."""
        tokens = list(sequence)
        unknown = sorted({t for t in tokens if t not in self._index})
        if unknown:
            shown = ", ".join(repr(t) for t in unknown[:20]) + (" ..." if len(unknown) > 20 else "")
            raise DataError(f"{where}: {len(unknown)} symbol(s) not in the model's vocabulary of "
                            f"{len(self)}: {shown}")
        return [self._index[t] for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of a sequence of ids."""
        return [self.tokens[int(i)] for i in ids]

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Vocabulary:
        if not isinstance(values, dict) or not isinstance(values.get("tokens"), list):
            raise DataError(f"not a vocabulary: expected {{\"tokens\": [...]}}, got {str(values)[:80]}")
        return cls(tuple(values["tokens"]))
