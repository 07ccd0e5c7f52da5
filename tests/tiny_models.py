"""A tiny Stable Diffusion pipeline made from random weights, for tests (no download, no GPU).

UNet and VAE with block_out_channels (4, 8), a 2-layer CLIP text encoder of width 32, and a byte-level
BPE tokenizer generated here; it saves to well under a megabyte and makes a 64×64 picture in a few
milliseconds per step on a CPU. Loaded through the studio's normal path (`models add` → from_pretrained).
"""

from __future__ import annotations

import json
from pathlib import Path


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character table (what byte-level BPE tokenizers use)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, codes), strict=True))


def _tokenizer_files(folder: Path) -> None:
    """CLIP's tokenizer format: every byte as a symbol (+ its word-final form), no merges."""
    symbols = list(_bytes_to_unicode().values())
    vocab = {s: i for i, s in enumerate(symbols)}
    for s in symbols:
        vocab[s + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "CLIPTokenizer", "model_max_length": 16, "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}))


def build_tiny_sd(folder: Path, seed: int = 0) -> Path:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, norm_num_groups=2, attention_head_dim=2)
    vae = AutoencoderKL(block_out_channels=(4, 8), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=2, sample_size=64)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, vocab_size=520,
        max_position_embeddings=16, bos_token_id=512, eos_token_id=513, pad_token_id=513, projection_dim=32))
    tokenizer_dir = folder.parent / f".{folder.name}-tokenizer"
    _tokenizer_files(tokenizer_dir)
    tokenizer = CLIPTokenizer.from_pretrained(str(tokenizer_dir))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(str(folder))
    return folder



def build_tiny_lora(file: Path, seed: int = 0, *, cross_attention_dim: int = 32, channels: tuple[int, int] = (4, 8),
                    metadata: dict[str, str] | None = None) -> Path:
    """A tiny LoRA file (peft on a UNet of build_tiny_sd's shape, random non-zero weights, diffusers' key names).
    Another `cross_attention_dim` or `channels` makes one for another base model: its shapes do not fit."""
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=channels, layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=cross_attention_dim, norm_num_groups=2, attention_head_dim=2)
    unet.add_adapter(LoraConfig(r=2, lora_alpha=2, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                init_lora_weights=False))
    with torch.no_grad():  # strong enough to show on a 64×64 picture
        for name, parameter in unet.named_parameters():
            if "lora_" in name:
                parameter.normal_(0, 1.0)
    state = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    file.parent.mkdir(parents=True, exist_ok=True)
    save_file({f"unet.{key}": value.contiguous() for key, value in state.items()}, str(file),
              metadata={"format": "pt", **(metadata or {})})
    return file


def build_tiny_vae(folder: Path, seed: int = 0, latent_channels: int = 4, blocks: int = 2,
                   scaling_factor: float = 0.18215) -> Path:
    """A VAE folder on its own (config.json naming AutoencoderKL, and its weights) of build_tiny_sd's shape;
    another `latent_channels` or number of `blocks` (pixels per latent) makes one for another base, and another
    `scaling_factor` one whose config names another base (0.13025: Stable Diffusion XL's)."""
    import torch
    from diffusers import AutoencoderKL

    torch.manual_seed(seed)
    AutoencoderKL(block_out_channels=(4, 8, 8, 8)[:blocks], in_channels=3, out_channels=3,
                  latent_channels=latent_channels, down_block_types=("DownEncoderBlock2D",) * blocks,
                  up_block_types=("UpDecoderBlock2D",) * blocks, norm_num_groups=2,
                  sample_size=64, scaling_factor=scaling_factor).save_pretrained(str(folder))
    return folder


def build_tiny_controlnet(folder: Path, seed: int = 0, cross_attention_dim: int = 32) -> Path:
    """A ControlNet folder (config.json naming ControlNetModel, and its weights) that fits build_tiny_sd's UNet;
    another `cross_attention_dim` makes one for another base. Its output convolutions, which training starts at
    zero, get random weights here, so it changes the picture."""
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    controlnet = ControlNetModel(
        block_out_channels=(4, 8), layers_per_block=1, in_channels=4, down_block_types=("CrossAttnDownBlock2D",
        "DownBlock2D"), cross_attention_dim=cross_attention_dim, norm_num_groups=2, attention_head_dim=2,
        conditioning_embedding_out_channels=(4, 8))
    zeroed = ("controlnet_down_blocks", "controlnet_mid_block", "controlnet_cond_embedding.conv_out")
    with torch.no_grad():
        for name, parameter in controlnet.named_parameters():
            if name.startswith(zeroed):
                parameter.normal_(0, 0.5)
    controlnet.save_pretrained(str(folder))
    return folder


def build_tiny_depth_model(folder: Path, seed: int = 0) -> Path:
    """A transformers depth-estimation folder (DPT at toy sizes, random weights, its image processor)."""
    import torch
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    torch.manual_seed(seed)
    config = DPTConfig(image_size=32, patch_size=16, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                       intermediate_size=37, backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[16, 16, 32, 32],
                       fusion_hidden_size=16, reassemble_factors=[4, 2, 1, 0.5], head_in_index=-1)
    DPTForDepthEstimation(config).save_pretrained(str(folder))
    DPTImageProcessor(size={"height": 32, "width": 32}, keep_aspect_ratio=False).save_pretrained(str(folder))
    return folder


def build_tiny_pose_model(folder: Path, seed: int = 0) -> Path:
    """A transformers ViTPose folder (a toy backbone, random weights, 17 COCO keypoints, 64×48 input) whose heatmaps
    are lifted by one, so every keypoint's score is above the skeleton's threshold and all 18 points are drawn."""
    import json

    import torch
    from transformers import VitPoseBackboneConfig, VitPoseConfig, VitPoseForPoseEstimation

    torch.manual_seed(seed)
    backbone = VitPoseBackboneConfig(image_size=[64, 48], patch_size=[16, 16], hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=4, mlp_ratio=2, out_indices=[2])
    model = VitPoseForPoseEstimation(VitPoseConfig(backbone_config=backbone, num_labels=17, scale_factor=4))
    with torch.no_grad():
        model.head.conv.bias.fill_(1.0)
    model.save_pretrained(str(folder))
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "VitPoseImageProcessor", "size": {"height": 64, "width": 48},
        "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}))
    return folder


def build_tiny_person_detector(folder: Path, seed: int = 0) -> Path:
    """A transformers RT-DETR folder at toy sizes (random weights; labels "person" and "cat", 64×64 input) whose
    last decoder layer is sure every query is a person, so the pose preprocessor gets people's boxes from it."""
    import torch
    from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrImageProcessor, RTDetrResNetConfig

    torch.manual_seed(seed)
    backbone = RTDetrResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 16, 32], depths=[1, 1, 1, 1],
                                  layer_type="basic", out_features=["stage2", "stage3", "stage4"])
    config = RTDetrConfig(backbone_config=backbone, use_pretrained_backbone=False, d_model=32, encoder_hidden_dim=32,
                          encoder_in_channels=[16, 16, 32], decoder_in_channels=[32, 32, 32], encoder_ffn_dim=64,
                          decoder_ffn_dim=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, num_feature_levels=3, num_queries=10, num_denoising=0,
                          id2label={0: "person", 1: "cat"}, label2id={"person": 0, "cat": 1})
    model = RTDetrForObjectDetection(config)
    with torch.no_grad():
        model.model.decoder.class_embed[-1].bias.copy_(torch.tensor([6.0, -6.0]))
    model.save_pretrained(str(folder))
    RTDetrImageProcessor(size={"height": 64, "width": 64}).save_pretrained(str(folder))
    return folder


def build_tiny_motion_adapter(folder: Path, seed: int = 0) -> Path:
    """A tiny AnimateDiff motion adapter (random weights) that fits build_tiny_sd's UNet."""
    import torch
    from diffusers import MotionAdapter

    torch.manual_seed(seed)
    MotionAdapter(block_out_channels=(4, 8), motion_layers_per_block=1, motion_norm_num_groups=2,
                  motion_num_attention_heads=2, motion_max_seq_length=32).save_pretrained(str(folder))
    return folder


def _tiny_text_parts(folder: Path) -> tuple[object, object]:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    text_encoder = CLIPTextModel(CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, vocab_size=520,
        max_position_embeddings=16, bos_token_id=512, eos_token_id=513, pad_token_id=513, projection_dim=32))
    tokenizer_dir = folder.parent / f".{folder.name}-tokenizer"
    _tokenizer_files(tokenizer_dir)
    return text_encoder, CLIPTokenizer.from_pretrained(str(tokenizer_dir))


def build_tiny_animatediff(folder: Path, seed: int = 0) -> Path:
    """A tiny text-to-video model: AnimateDiff (an SD UNet + a motion adapter), random weights."""
    import torch
    from diffusers import AnimateDiffPipeline, AutoencoderKL, DDIMScheduler, MotionAdapter, UNet2DConditionModel

    torch.manual_seed(seed)
    channels = (8, 8)
    unet = UNet2DConditionModel(
        block_out_channels=channels, layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, norm_num_groups=2, attention_head_dim=2)
    adapter = MotionAdapter(block_out_channels=channels, motion_layers_per_block=1, motion_norm_num_groups=2,
                            motion_num_attention_heads=2, motion_max_seq_length=32)
    vae = AutoencoderKL(block_out_channels=channels, in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=2)
    text_encoder, tokenizer = _tiny_text_parts(folder)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False,
                              steps_offset=1)
    pipe = AnimateDiffPipeline(unet=unet, motion_adapter=adapter, vae=vae, text_encoder=text_encoder,
                               tokenizer=tokenizer, scheduler=scheduler)
    pipe.save_pretrained(str(folder))
    return folder


def build_tiny_svd(folder: Path, seed: int = 0) -> Path:
    """A tiny image-to-video model: Stable Video Diffusion's parts at toy sizes, random weights."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32, num_attention_heads=8, projection_class_embeddings_input_dim=96,
        addition_time_embed_dim=32)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                                       latent_channels=4)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4, image_size=224,
        intermediate_size=37, patch_size=32))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
        timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=image_encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=CLIPImageProcessor(crop_size=224, size=224))
    pipe.save_pretrained(str(folder))
    return folder



def build_tiny_upscaler(folder: Path, seed: int = 0) -> Path:
    """A tiny ×4 upscaler: Stable Diffusion x4 Upscaler's layout (a 7-channel UNet over the low-res picture's
    noised pixels, a 3-level VAE that decodes 4× larger), random weights."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 32, 64), layers_per_block=1, sample_size=32, in_channels=7, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        attention_head_dim=8, use_linear_projection=True, only_cross_attention=(True, True, False),
        num_class_embeds=100)
    vae = AutoencoderKL(block_out_channels=[32, 32, 64], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
                        scaling_factor=0.08333)
    text_encoder, tokenizer = _tiny_text_parts(folder)
    pipe = StableDiffusionUpscalePipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, low_res_scheduler=DDPMScheduler(),
        scheduler=DDIMScheduler(prediction_type="v_prediction"), safety_checker=None, feature_extractor=None,
        watermarker=None, max_noise_level=350)
    pipe.save_pretrained(str(folder))
    return folder


if __name__ == "__main__":
    import sys
    import time

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny-sd")
    build_tiny_sd(target)
    from diffusers import DiffusionPipeline

    started = time.perf_counter()
    pipe = DiffusionPipeline.from_pretrained(str(target), local_files_only=True)
    loaded = time.perf_counter() - started
    import torch

    started = time.perf_counter()
    image = pipe("a lighthouse", num_inference_steps=2, width=64, height=64,
                 generator=torch.Generator().manual_seed(1)).images[0]
    print(f"saved {sum(f.stat().st_size for f in target.rglob('*') if f.is_file())} bytes; loaded in {loaded:.2f} s; "
          f"64×64 in 2 steps in {time.perf_counter() - started:.3f} s; {image.size}")


def build_tiny_ip_adapter(folder: Path, seed: int = 0, *, cross_attention_dim: int = 32,
                          weights: str = "ip-adapter_tiny.safetensors") -> Path:
    """A tiny IP-Adapter for build_tiny_sd's UNet in diffusers' layout: `folder/models/<weights>` (its image
    projection and the key/value layers of each cross-attention, random weights) and a tiny
    CLIPVisionModelWithProjection in `folder/models/image_encoder/`. Another `cross_attention_dim` makes one for
    another base. Returns the weights file."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    models = folder / "models"
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, image_size=32,
        patch_size=8, projection_dim=16))
    encoder.save_pretrained(str(models / "image_encoder"))
    unet = UNet2DConditionModel(  # build_tiny_sd's UNet, only to walk its attention layers as diffusers does
        block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, norm_num_groups=2, attention_head_dim=2)
    channels = unet.config.block_out_channels
    state = {"image_proj.proj.weight": torch.randn(4 * cross_attention_dim, 16),
             "image_proj.proj.bias": torch.randn(4 * cross_attention_dim),
             "image_proj.norm.weight": torch.ones(cross_attention_dim),
             "image_proj.norm.bias": torch.zeros(cross_attention_dim)}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        hidden = (channels[-1] if name.startswith("mid_block") else
                  list(reversed(channels))[int(name[len("up_blocks.")])] if name.startswith("up_blocks") else
                  channels[int(name[len("down_blocks.")])])
        for layer in ("to_k_ip", "to_v_ip"):  # strong enough to show on a 64×64 picture
            state[f"ip_adapter.{key_id}.{layer}.weight"] = torch.randn(hidden, cross_attention_dim) * 2.0
        key_id += 2
    save_file({k: v.contiguous() for k, v in state.items()}, str(models / weights))
    return models / weights
