"""Each run gets a scheduler of its own, as `from_config` builds it, however many runs came before."""

import diffusers
import pytest
import torch

from mediastudio.engine.sampling import make_scheduler


def test_each_run_gets_a_fresh_scheduler_equal_to_a_newly_built_one() -> None:
    model_own = diffusers.DDIMScheduler(num_train_timesteps=1000)
    first = make_scheduler(model_own, "euler", "karras")
    first.set_timesteps(4)
    first.step(torch.zeros(1, 4, 8, 8), first.timesteps[0], torch.zeros(1, 4, 8, 8))  # a run moves it on
    second = make_scheduler(model_own, "euler", "karras")
    built = diffusers.EulerDiscreteScheduler.from_config(model_own.config, use_karras_sigmas=True,
                                                         use_exponential_sigmas=False, use_beta_sigmas=False)
    assert second is not first
    assert second.step_index is None and second.config == built.config
    second.set_timesteps(4)
    built.set_timesteps(4)
    assert torch.equal(second.sigmas, built.sigmas) and torch.equal(second.timesteps, built.timesteps)


def test_a_model_with_another_config_gets_its_own_scheduler() -> None:
    a = make_scheduler(diffusers.DDIMScheduler(beta_end=0.012), "default", "default")
    b = make_scheduler(diffusers.DDIMScheduler(beta_end=0.02), "default", "default")
    assert (a.config.beta_end, b.config.beta_end) == (0.012, 0.02)
    assert not torch.equal(a.betas, b.betas)


def _noise(scheduler: object, generator: torch.Generator) -> dict[str, torch.Generator]:
    """The generator, for the samplers that add noise of their own (those whose step takes one)."""
    import inspect

    return {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}  # type: ignore[attr-defined]


def _denoise(scheduler: object, steps: int = 5) -> torch.Tensor:
    """A whole run of `scheduler` on a fixed latent, with a fixed 'model output' per step (its own noise seeded)."""
    scheduler.set_timesteps(steps)  # type: ignore[attr-defined]
    latent = torch.linspace(-1, 1, 64).reshape(1, 4, 4, 4)
    generator = torch.Generator().manual_seed(7)
    for index, timestep in enumerate(scheduler.timesteps):  # type: ignore[attr-defined]
        model_input = scheduler.scale_model_input(latent, timestep)  # type: ignore[attr-defined]
        output = model_input * 0.5 + 0.01 * index
        latent = scheduler.step(output, timestep, latent, **_noise(scheduler, generator)).prev_sample  # type: ignore[attr-defined]
    return latent


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # numpy 2's copy keyword, in many schedulers' set-up
def test_runs_side_by_side_do_not_change_each_other_or_the_next_one() -> None:
    """Every sampler: copies share the pristine scheduler's tensors, so none may change them. Two runs stepping in
    turn, and a third after them, each end where a scheduler built anew ends (a multistep sampler's last outputs
    are each run's own)."""
    import importlib.util

    from mediastudio.engine.sampling import SAMPLERS

    model_own = diffusers.DDIMScheduler(num_train_timesteps=1000)
    for name, sampler in SAMPLERS.items():
        if sampler.needs and importlib.util.find_spec(sampler.needs) is None:
            continue
        built = getattr(diffusers, sampler.scheduler).from_config(model_own.config, **sampler.config)
        expected = _denoise(built)
        a, b = make_scheduler(model_own, name, "default"), make_scheduler(model_own, name, "default")
        a.set_timesteps(5)
        b.set_timesteps(5)
        latent = torch.linspace(-1, 1, 64).reshape(1, 4, 4, 4)
        generators = [torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)]
        latents = [latent, latent]
        for index, timestep in enumerate(a.timesteps):  # in turn, as two lanes' runs would
            for n, scheduler in enumerate((a, b)):
                model_input = scheduler.scale_model_input(latents[n], timestep)
                output = model_input * 0.5 + 0.01 * index
                latents[n] = scheduler.step(output, timestep, latents[n],
                                            **_noise(scheduler, generators[n])).prev_sample
        assert torch.allclose(latents[0], expected) and torch.allclose(latents[1], expected), name
        assert torch.allclose(_denoise(make_scheduler(model_own, name, "default")), expected), name


class _OnlyScheduler(diffusers.DiffusionPipeline):
    def __init__(self, scheduler: object) -> None:
        super().__init__()
        self.register_modules(scheduler=scheduler)


@pytest.mark.parametrize("sampler", ["default", "euler"])
def test_a_runs_scheduler_goes_on_the_pipeline_as_an_assignment_puts_it(sampler: str) -> None:
    """`use_scheduler` skips diffusers' rewrite of the pipeline's config only where it would write the same: a
    scheduler of another class is written into the config, as `pipe.scheduler = …` does."""
    from mediastudio.engine.sampling import use_scheduler

    model_own = diffusers.DDIMScheduler(num_train_timesteps=1000)
    ours, assigned = _OnlyScheduler(model_own), _OnlyScheduler(model_own)
    for _ in range(2):
        made = make_scheduler(model_own, sampler, "default")
        use_scheduler(ours, made)
        assigned.scheduler = made
        assert ours.scheduler is made
        assert dict(ours.config) == dict(assigned.config)
        assert ours.config["scheduler"][1] == type(made).__name__
        assert ours.components["scheduler"] is made
