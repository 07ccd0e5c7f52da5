"""What to tell a person about installing models: the commands that work, worded for who is asking."""

from __future__ import annotations

COMMANDS = ("mediastudio models add /path/to/diffusers-folder — or, when the machine is online: "
            "mediastudio models pull stabilityai/sd-turbo.")
ADD_ON_SERVER = f"On the server: {COMMANDS}"
ASK_AN_ADMIN = "Ask an admin to install one: only administrators can add models to this studio."


def how_to_add(is_admin: bool) -> str:
    """How to get a first model: the commands (and the studio's own form) for admins, whom to ask for others."""
    if is_admin:
        return (f"Download one in Server settings → Models (a catalog of recommended models), or add a folder "
                f"there. {ADD_ON_SERVER} Admins can also add one from the canvas's “No model is installed” notice.")
    return ASK_AN_ADMIN


def no_model(is_admin: bool) -> str:
    """The pre-run check's words on a node that needs a model when none is installed."""
    return f"No model installed — nothing can be generated yet. {how_to_add(is_admin)}"


def offline_hint(repo: str, folder: str) -> str:
    """A download that works where the hub can be reached: `hf` ships with huggingface_hub (the
    `huggingface-cli` command it replaced is gone from current releases)."""
    return (f"Download the model on a machine that is online (`hf download {repo} --local-dir {folder}`; "
            f"the `hf` command comes with `pip install huggingface_hub`), copy the folder here, then: "
            f"mediastudio models add {folder}")
