"""Tiny, randomly initialised stand-ins for the pretrained profile's models, of the same classes.

No hub can be reached from the machines that test this course, so the pretrained profile's
whole code path (finding the weights, loading them, preprocessing, embedding, indexing,
generation) is tested on models built here: an open_clip ViT of a custom config, a
``WhisperForConditionalGeneration`` with a byte-level tokenizer, and a
``LlavaForConditionalGeneration`` with a SigLIP vision tower and a Qwen2 decoder (the classes of
llava-interleave-qwen-0.5b). Each is a few hundred kilobytes and answers nonsense: what they check
is the plumbing, not the numbers.

    python -m helpers.tiny_models build/tiny-models
    COURSE_PROFILE=pretrained COURSE_PRETRAINED_DIR=build/tiny-models jupyter lab
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from helpers.pretrained import WIDTH as EMBED_DIM  # the profile's vector width, as ViT-B-32's
from helpers.towers import IMAGE_MEAN, IMAGE_STD

WIDTH = 32  # every tiny model's hidden width
IMAGE_SIZE, PATCH = 32, 16
WHISPER_SECONDS = 3  # the tiny Whisper's window (Whisper's: 30 s): every clip is padded to it
WHISPER_SPECIALS = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nospeech|>",
    "<|notimestamps|>",
]
# llava-interleave's conversation format (ChatML, the pictures before the text), as a chat template
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}"
    "{{ '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def byte_vocabulary(specials: list[str]) -> dict[str, int]:
    """A byte-level BPE vocabulary without merges: the 256 byte symbols, then ``specials``."""
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocabulary = {symbol: i for i, symbol in enumerate(bytes_to_unicode().values())}
    for token in specials:
        vocabulary[token] = len(vocabulary)
    return vocabulary


def write_clip(folder: Path) -> None:
    """An open_clip ViT (one layer each side) as ``open_clip_config.json`` and its weights, the
    files a hub copy of ViT-B-32 has; its tokenizer is open_clip's own (shipped with the package)."""
    import open_clip

    vision = {"image_size": IMAGE_SIZE, "layers": 1, "width": WIDTH, "patch_size": PATCH, "head_width": 16}
    config = {
        "model_cfg": {
            "embed_dim": EMBED_DIM,
            "vision_cfg": vision,
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": WIDTH, "heads": 2, "layers": 1},
        },
        "preprocess_cfg": {"mean": list(IMAGE_MEAN), "std": list(IMAGE_STD)},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=1))
    torch.save(open_clip.CLIP(**config["model_cfg"]).state_dict(), folder / "open_clip_pytorch_model.bin")


def write_whisper(folder: Path) -> None:
    """A one-layer Whisper with its processor (Whisper's feature extractor, a byte-level tokenizer
    with Whisper's special tokens) and the generation settings ``generate(language=...)`` reads.
    Its window is :data:`WHISPER_SECONDS` long, not 30 s, so that the whole course's speech is
    transcribed in seconds (the course's spoken names last one or two)."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    tokenizer = WhisperTokenizerFast(vocab=byte_vocabulary(WHISPER_SPECIALS), merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": WHISPER_SPECIALS[1:]})
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in WHISPER_SPECIALS}
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=WIDTH,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * WIDTH,
        decoder_ffn_dim=2 * WIDTH,
        max_source_positions=WHISPER_SECONDS * 50,  # 100 feature frames a second, halved by the encoder
        max_target_positions=64,
        decoder_start_token_id=start,
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
    )
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start,
        eos_token_id=end,
        pad_token_id=end,
        lang_to_id={"<|en|>": ids["<|en|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        is_multilingual=True,
        max_length=64,
    )
    model.save_pretrained(folder)
    features = WhisperFeatureExtractor(feature_size=80, chunk_length=WHISPER_SECONDS)
    WhisperProcessor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(folder)


def write_llava(folder: Path) -> None:
    """A one-layer LLaVA of llava-interleave's classes (SigLIP vision, Qwen2 decoder, the GELU
    projector, all the vision tower's patches as image tokens) with its processor and chat template."""
    from transformers import (
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        Qwen2Config,
        Qwen2TokenizerFast,
        SiglipImageProcessor,
        SiglipVisionConfig,
    )

    tokenizer = Qwen2TokenizerFast(
        vocab=byte_vocabulary(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]),
        merges=[],
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<image>"]})
    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    image_processor = SiglipImageProcessor(size=size, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH,
        vision_feature_select_strategy="full",
        chat_template=LLAVA_CHAT_TEMPLATE,
        image_token="<image>",
    )
    vision = SiglipVisionConfig(
        hidden_size=WIDTH,
        intermediate_size=2 * WIDTH,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH,
    )
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    text = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=WIDTH,
        intermediate_size=2 * WIDTH,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=1024,
        eos_token_id=end,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        projector_hidden_act="gelu",
        image_seq_length=(IMAGE_SIZE // PATCH) ** 2,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id, model.generation_config.pad_token_id = end, tokenizer.pad_token_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


def write_all(folder: str | Path, seed: int = 0) -> Path:
    """``clip/``, ``speech/`` and ``llava/`` in ``folder``, as ``COURSE_PRETRAINED_DIR`` expects; seeded."""
    from transformers.utils import logging

    folder = Path(folder)
    torch.manual_seed(seed)
    bars = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()  # no "Writing model shards" bar over a 300 kB file
    try:
        write_clip(folder / "clip")
        write_whisper(folder / "speech")
        write_llava(folder / "llava")
    finally:
        if bars:
            logging.enable_progress_bar()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where to write clip/, speech/ and llava/")
    print(write_all(parser.parse_args().folder))


if __name__ == "__main__":
    main()
