"""How fast the pretrained profile's models run on this machine, measured without downloading them.

Speed depends on a model's architecture and input sizes, not on its weights' values, so each model
is built here from its published configuration with random weights and timed on the profile's own
inputs: open_clip ViT-B-32 embedding pictures and sentences; Whisper tiny transcribing one clip,
padded to its 30-second window as Whisper pads every clip, for a fixed number of decoding steps;
and llava-interleave-qwen-0.5b (SigLIP so400m at 384 px, Qwen1.5 0.5B) reading one picture and
writing a fixed number of tokens. Nothing is fetched.

    python -m helpers.pretrained_speed      # median seconds of each, on COURSE_DEVICE
"""

from __future__ import annotations

import torch

from helpers import settings
from helpers.timing import median_seconds

REPEATS = 3
NEW_TOKENS = 16  # tokens each generation writes (greedy, no early end: random weights never stop)


def timed(run) -> float:
    """Median seconds of ``run()`` over :data:`REPEATS` calls, after one call that warms caches up."""
    run()
    return median_seconds(run, REPEATS)


@torch.no_grad()
def clip_seconds(device: str) -> dict[str, float]:
    """open_clip ViT-B-32: 32 pictures (224 px), and 32 sentences."""
    import open_clip

    model = open_clip.create_model("ViT-B-32", pretrained=None, device=device).eval()
    pictures = torch.randn(32, 3, 224, 224, device=device)
    words = open_clip.get_tokenizer("ViT-B-32")(["a photo of a red apple on a table"] * 32).to(device)
    return {
        "clip: 32 pictures": timed(lambda: model.encode_image(pictures)),
        "clip: 32 sentences": timed(lambda: model.encode_text(words)),
    }


@torch.no_grad()
def whisper_seconds(device: str) -> dict[str, float]:
    """Whisper tiny (4 + 4 layers, 384 wide): one 30-second window, :data:`NEW_TOKENS` tokens written."""
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    config = WhisperConfig(
        vocab_size=51865, d_model=384, encoder_layers=4, decoder_layers=4,
        encoder_attention_heads=6, decoder_attention_heads=6, encoder_ffn_dim=1536, decoder_ffn_dim=1536,
    )  # fmt: skip
    model = WhisperForConditionalGeneration(config).to(device).eval()
    features = torch.randn(1, 80, 3000, device=device)
    start = torch.tensor([[config.decoder_start_token_id]], device=device)

    def transcribe() -> None:
        model.generate(features, decoder_input_ids=start, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)

    return {"whisper: one clip": timed(transcribe)}


@torch.no_grad()
def llava_seconds(device: str) -> dict[str, float]:
    """llava-interleave-qwen-0.5b's shapes: one 384 px picture (729 image tokens) and a short
    question, :data:`NEW_TOKENS` tokens written."""
    from transformers import LlavaConfig, LlavaForConditionalGeneration, Qwen2Config, SiglipVisionConfig

    vision = SiglipVisionConfig(
        hidden_size=1152, intermediate_size=4304, num_hidden_layers=26, num_attention_heads=16,
        image_size=384, patch_size=14,
    )  # fmt: skip
    text = Qwen2Config(
        vocab_size=151936, hidden_size=1024, intermediate_size=2816, num_hidden_layers=24,
        num_attention_heads=16, num_key_value_heads=16, tie_word_embeddings=True,
    )  # fmt: skip
    image_token = text.vocab_size - 1
    config = LlavaConfig(
        vision_config=vision, text_config=text, image_token_index=image_token,
        vision_feature_select_strategy="full", vision_feature_layer=-1, image_seq_length=729,
    )  # fmt: skip
    dtype = torch.float16 if device == "cuda" else torch.float32
    model = LlavaForConditionalGeneration(config).to(device, dtype).eval()
    ids = torch.tensor([[1] * 8 + [image_token] * 729 + [2] * 24], device=device)
    picture = torch.randn(1, 3, 384, 384, device=device, dtype=dtype)

    def answer() -> None:
        model.generate(
            input_ids=ids, pixel_values=picture, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False
        )

    return {"llava: one picture, one answer": timed(answer)}


def main() -> None:
    device = settings.device()
    settings.set_threads()
    from transformers.utils import logging

    logging.set_verbosity_error()  # no notes on generate()'s default lengths
    torch.manual_seed(0)
    print(f"device={device}, torch threads={torch.get_num_threads()}; median seconds of {REPEATS} runs")
    for measure in (clip_seconds, whisper_seconds, llava_seconds):
        for name, seconds in measure(device).items():
            print(f"  {name:34s} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
