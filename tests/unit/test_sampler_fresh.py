"""Each run gets a scheduler of its own, as `from_config` builds it, however many runs came before."""

import diffusers
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
