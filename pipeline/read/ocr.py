"""The OCR engine: RapidOCR's PP-OCRv4 models (inside the ``rapidocr-onnxruntime`` wheel, run
offline on CPU by onnxruntime; nothing is downloaded) behind two calls, ``detect`` (where is
text on a page) and ``recognize`` (what does a crop say).

``recognize`` keeps what the engine's usual result throws away: the model's per-frame
probabilities. A crop that reads as a number is decoded a second time over the digits only,
so each digit comes with its probability and the model's own second choice — the readings a
digit "could also be" (3/8, 1/7, 0/6/9) that ``extract/ocr_digits`` lets the form's identities
decide. Nothing here decides a digit.

One engine per process, one onnxruntime thread: the ingest runs one worker per core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

ENGINE = "rapidocr-onnxruntime 1.4.4 (PP-OCRv4 det + rec, ch)"
_LOOKS_DIGIT = "0-9OoDQlI|SsBZzgq"  # letters a digit is misread as (S for 5, B for 8, l for 1 …)
_NUMERIC = re.compile(rf"^[\s{_LOOKS_DIGIT},，.\-－—–]*[{_LOOKS_DIGIT}][\s{_LOOKS_DIGIT},，.\-－—–]*$")
_WORDS = re.compile(r"[\u3400-\u9fff（）()、：:]")  # Chinese or a label's punctuation
_ALT_MIN = 0.002  # a second-choice digit below this probability is not a reading worth trying


@dataclass
class Digit:
    char: str
    prob: float
    alt: str | None = None  # the model's second choice among digits at the same frame
    alt_prob: float = 0.0


@dataclass
class Reading:
    text: str
    score: float  # mean probability of the emitted characters (the engine's usual score)
    digits: list[Digit] = field(default_factory=list)  # set when the crop reads as a number
    negative: bool = False  # printed with a minus (本年增/减 can be negative)
    letters: str = ""  # what the engine read when the digits were decoded from no number ('co', 'V')

    @property
    def numeric(self) -> bool:
        return bool(self.digits)

    @property
    def number(self) -> str:
        return ("-" if self.negative else "") + "".join(d.char for d in self.digits)

    @property
    def confidence(self) -> float:
        """The least sure character: a number is as good as its worst digit."""
        return min((d.prob for d in self.digits), default=self.score)


class Engine:
    """The models, loaded once per process (≈ 0.3 s)."""

    batch = 1  # crops per call: a batch is padded to its widest crop, so one at a time is cheapest (4.2 s CPU a page against 6.3 s at 6, 13.8 s at 16)
    min_ratio = 3.0  # the engine pads every crop to 320×48 (ratio 6.7); a lone digit needs far less: 3.0 reads the same digits at 2.6 s CPU a page instead of 3.8

    def __init__(self, threads: int = 1):
        from rapidocr_onnxruntime import RapidOCR

        self._ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, print_verbose=False)
        self._rec = self._ocr.text_rec
        chars = self._rec.postprocess_op.character
        self._chars = chars
        self._digit_idx = np.array([chars.index(str(d)) for d in range(10)] + [chars.index(".")])

    def detect(self, img: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Text boxes on an RGB/BGR page as (x0, y0, x1, y1), top to bottom."""
        det = self._ocr.text_det
        boxes, _ = det(img)
        if boxes is None:
            return []
        out = []
        for b in boxes:
            xs, ys = b[:, 0], b[:, 1]
            out.append((int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max()))))
        return sorted(out, key=lambda b: (b[1], b[0]))

    def recognize(self, crops: list[np.ndarray]) -> list[Reading]:
        """Read each crop (one line of text). Crops are batched by width, as the engine does."""
        if not crops:
            return []
        crops = [c if c.ndim == 3 else np.repeat(c[:, :, None], 3, axis=2) for c in crops]
        order = np.argsort([c.shape[1] / max(c.shape[0], 1) for c in crops])
        out: list[Reading | None] = [None] * len(crops)
        batch = self.batch
        imgC, imgH, imgW = self._rec.rec_image_shape[:3]
        for start in range(0, len(crops), batch):
            idx = order[start:start + batch]
            ratio = max([self.min_ratio] + [crops[i].shape[1] / max(crops[i].shape[0], 1) for i in idx])
            norm = np.concatenate([self._rec.resize_norm_img(crops[i], ratio)[None] for i in idx]).astype(np.float32)
            preds = self._rec.session(norm)[0]
            for k, i in enumerate(idx):
                out[i] = self._decode(preds[k])
        return out  # type: ignore[return-value]

    def _decode(self, frames: np.ndarray) -> Reading:
        best = frames.argmax(axis=1)
        text, probs, prev = [], [], 0
        for t, c in enumerate(best):
            if c != 0 and c != prev:
                text.append(self._chars[c])
                probs.append(float(frames[t, c]))
            prev = c
        reading = Reading("".join(text).strip(), float(np.mean(probs)) if probs else 0.0)
        if reading.text and _NUMERIC.match(reading.text):
            reading.digits = self._digits(frames)
            reading.negative = reading.text.startswith(("-", "－", "—", "–")) and bool(reading.digits)
        elif reading.text and (len(reading.text) <= 3 and not _WORDS.search(reading.text)
                               or len(reading.text) == 1 and reading.score < 0.3):
            # a few letters, no word ('co', 'V', 'b' for 0, 0, 7 under a seal's remains), or one
            # character the engine hardly believes ('国' at 0.10): the digits the model saw there,
            # with their own (low) probabilities, so the cell is an unsure number for the
            # identities to decide, not a label that breaks its row
            reading.digits = self._digits(frames)
            reading.letters = reading.text if reading.digits else ""
        return reading

    def _digits(self, frames: np.ndarray) -> list[Digit]:
        """Greedy CTC decoding over blank, the ten digits and the decimal point only: each run
        of frames whose best class is one digit emits it, with its best frame's probability and
        second digit (fees are printed in 万元 with decimals)."""
        sub = np.concatenate([frames[:, :1], frames[:, self._digit_idx]], axis=1)
        glyphs = "0123456789."
        best = sub.argmax(axis=1)
        out: list[Digit] = []
        prev = 0
        for t, c in enumerate(best):
            if c != 0 and c != prev:
                out.append(Digit(glyphs[c - 1], 0.0))
            if c != 0:
                d = out[-1]
                p = float(sub[t, c])
                if p > d.prob:
                    ranked = [int(r) for r in np.argsort(sub[t, 1:11])[::-1]]
                    second = ranked[0] if ranked[0] != c - 1 else ranked[1]
                    d.prob, d.alt, d.alt_prob = p, str(second), float(sub[t, 1 + second])
            prev = c
        while out and out[0].char == ".":
            out.pop(0)
        while out and out[-1].char == ".":
            out.pop()
        for d in out:
            if d.alt_prob < _ALT_MIN or d.char == ".":
                d.alt, d.alt_prob = None, 0.0
        return out


_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE
