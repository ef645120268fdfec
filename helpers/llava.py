"""The course's small LLaVA, built from the ``transformers`` classes a real LLaVA loads with.

Step 3 builds and trains it (``python -m helpers.step3.rebuild`` writes the course
checkpoint); Step 4 loads it as the generator of its RAG pipeline.

- **Vision tower**: Step 1's image tower, frozen, read out on a 2x2 grid
  (:class:`GridVisionTower`): one image token per cell of the scene, each the cell's
  max-pooled CNN features and the tower's own 384-d embedding of them (what the tower
  recognises there).
- **Projector**: LLaVA-1.5's two-layer MLP (``projector_hidden_act="gelu"``), or
  LLaVA-1's linear map (``"linear"``) for the ablation.
- **Decoder**: a small ``LlamaForCausalLM`` over a BPE tokenizer trained on the course's
  own text (:func:`train_tokenizer`).

:func:`build_llava` puts them in ``LlavaForConditionalGeneration``; :func:`build_processor`
makes the ``LlavaProcessor`` (image processor, tokenizer, chat template). Both save with
``save_pretrained`` and :func:`load_checkpoint` loads them with ``AutoModelForImageTextToText`` /
``AutoProcessor``, the calls that load ``llava-hf/llava-1.5-7b-hf``.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import (
    AutoConfig,
    AutoModel,
    CLIPImageProcessor,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerFast,
)
from transformers.modeling_outputs import BaseModelOutputWithPooling

from helpers import settings
from helpers.towers import IMAGE_MEAN, IMAGE_SIZE, IMAGE_STD, ImageTower, ImageTowerConfig

CHECKPOINT_DIR = settings.CHECKPOINTS_DIR / "step3"  # written by `python -m helpers.step3.rebuild`
GRID = 2  # the vision tower reads a picture as GRID x GRID cells: GRID² image tokens
IMAGE_TOKEN = "<image>"
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", IMAGE_TOKEN]
# LLaVA-1.5's conversation format ("USER: <image>\n... ASSISTANT: ..."), as a chat template.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ 'USER: ' }}"
    "{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}{{ '<image>\\n' }}{% else %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{{ ' ' }}"
    "{% else %}{{ 'ASSISTANT: ' }}{% for item in message['content'] %}{{ item['text'] }}{% endfor %}{{ '</s>' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)


# ---------------------------------------------------------------- tokenizer
def train_tokenizer(texts: list[str], vocab_size: int = 2000) -> PreTrainedTokenizerFast:
    """A byte-pair-encoding tokenizer trained on ``texts`` (with ``tokenizers``), wrapped for ``transformers``.

    Byte-level, as GPT-2's and Llama-3's: any text encodes, nothing is ``<unk>``;
    ``<image>`` is a special token, so a prompt's image placeholder is always one id;
    ``<s>`` starts every encoded text, as Llama's tokenizer does.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    if not texts:
        raise ValueError("train_tokenizer needs at least one text")
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    bos = tokenizer.token_to_id("<s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": IMAGE_TOKEN},
        padding_side="left",  # generation appends on the right
    )


# ---------------------------------------------------------------- vision tower
class GridVisionConfig(PretrainedConfig):
    model_type = "course_grid_vision"

    def __init__(self, image_tower: dict | None = None, grid: int = GRID, **kwargs):
        tower = ImageTowerConfig(**(image_tower or {}))
        self.image_tower = tower.to_dict()
        self.grid = grid
        self.hidden_size = 8 * tower.width + tower.embed_dim
        self.image_size = tower.image_size
        self.patch_size = tower.image_size // grid
        super().__init__(**kwargs)


class GridVisionTower(PreTrainedModel):
    """Step 1's image tower as a LLaVA vision tower: (batch, 3, 64, 64) -> (batch, grid², hidden) tokens.

    Each token is one cell's max-pooled feature map, next to the tower's unit embedding of
    those features (its projection, as it embeds whole pictures): LLaVA reads CLIP's
    patch features; this tower's best-trained output is that embedding, so the projector
    gets both. Returned as ``hidden_states`` so that ``LlavaModel`` selects it as it
    selects a CLIP layer (``vision_feature_layer=-1``, ``vision_feature_select_strategy="full"``).
    Taught in notebook 3.1 (how the grid becomes image tokens).
    """

    config_class = GridVisionConfig
    main_input_name = "pixel_values"

    def __init__(self, config: GridVisionConfig):
        super().__init__(config)
        self.tower = ImageTower(ImageTowerConfig(**config.image_tower))
        self.post_init()

    def _init_weights(self, module: torch.nn.Module) -> None:
        """Keep PyTorch's default initialisation; the weights come from Step 1."""

    def forward(self, pixel_values: torch.Tensor, **kwargs) -> BaseModelOutputWithPooling:
        grid = self.config.grid
        cells = F.adaptive_max_pool2d(self.tower.feature_map(pixel_values), grid).flatten(2).transpose(1, 2)
        embedded = F.normalize(self.tower.projection(cells), dim=-1)
        # A unit vector's entries are ~1/sqrt(d): rescaled to ~1, as large as the CNN's features.
        tokens = torch.cat([cells, embedded * embedded.shape[-1] ** 0.5], dim=-1)
        return BaseModelOutputWithPooling(last_hidden_state=tokens, pooler_output=embedded, hidden_states=(tokens,))


AutoConfig.register(GridVisionConfig.model_type, GridVisionConfig)
AutoModel.register(GridVisionConfig, GridVisionTower)


def vision_tower_from(image_tower: ImageTower, grid: int = GRID) -> GridVisionTower:
    """A :class:`GridVisionTower` holding a copy of ``image_tower``'s weights."""
    vision = GridVisionTower(GridVisionConfig(image_tower=image_tower.config.to_dict(), grid=grid))
    vision.tower.load_state_dict(image_tower.state_dict())
    return vision.eval()


# ---------------------------------------------------------------- decoder and LLaVA
def decoder_config(
    tokenizer: PreTrainedTokenizerFast, hidden_size: int = 192, num_layers: int = 3, num_heads: int = 3
) -> LlamaConfig:
    """A small Llama: ``num_layers`` blocks of width ``hidden_size``, tied input and output embeddings.

    The default is the size Step 3's calibration chose: a stage-2 step (batch 32) took 0.65 s
    on one thread here against 1.14 s for a 256-wide 4-layer decoder, and steps are what the
    60-minute budget lacks (naming only starts to work after about 1,000 of them).
    """
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 8 // 3 // 32 * 32,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )


def build_llava(
    vision: GridVisionTower,
    decoder: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    projector: str = "mlp",
) -> LlavaForConditionalGeneration:
    """Assemble a ``LlavaForConditionalGeneration`` from a vision tower, a (pretrained) decoder and a fresh projector.

    ``projector`` is ``"mlp"`` (LLaVA-1.5: linear, GELU, linear) or ``"linear"`` (LLaVA-1:
    with an identity activation the two layers compose to one linear map).
    """
    activations = {"mlp": "gelu", "linear": "linear"}
    if projector not in activations:
        raise ValueError(f"projector must be one of {sorted(activations)}, got {projector!r}")
    config = LlavaConfig(
        vision_config=vision.config.to_dict(),
        text_config=decoder.config.to_dict(),
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        image_seq_length=vision.config.grid**2,
        projector_hidden_act=activations[projector],
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config)
    model.model.vision_tower.load_state_dict(vision.state_dict())
    model.model.language_model.load_state_dict(decoder.model.state_dict())
    model.lm_head.load_state_dict(decoder.lm_head.state_dict())
    model.model.vision_tower.requires_grad_(False)
    return model


def build_processor(tokenizer: PreTrainedTokenizerFast, grid: int = GRID) -> LlavaProcessor:
    """A ``LlavaProcessor``: CLIP's image processor at 64 px with CLIP's normalisation, the
    tokenizer, and the chat template; it expands ``<image>`` into ``grid²`` image tokens."""
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        image_mean=list(IMAGE_MEAN),
        image_std=list(IMAGE_STD),
        resample=3,  # bicubic, as CLIP
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=IMAGE_SIZE // grid,
        vision_feature_select_strategy="full",
        chat_template=CHAT_TEMPLATE,
        image_token=IMAGE_TOKEN,
    )


def load_checkpoint(folder: str | Path | None = None) -> tuple[LlavaForConditionalGeneration, LlavaProcessor]:
    """The course LLaVA and its processor, loaded as any LLaVA is (``AutoModelForImageTextToText``,
    ``AutoProcessor``) from ``folder`` (default: the committed checkpoint's ``llava/``)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    folder = Path(folder) if folder is not None else CHECKPOINT_DIR / "llava"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder} holds no LLaVA: restore the committed checkpoint with `git checkout -- checkpoints/` "
            "or rebuild it with `python -m helpers.step3.rebuild`"
        )
    model = AutoModelForImageTextToText.from_pretrained(folder, dtype=torch.float32).to(settings.device()).eval()
    return model, AutoProcessor.from_pretrained(folder)
