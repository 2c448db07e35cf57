"""The `alignnet` command. Each sub-command lives in its own small module and is imported
only when used, so `alignnet --help` and the data commands do not pay for importing torch."""

from __future__ import annotations

import click

from alignnet import __version__
from alignnet.cli.lazy import LazyGroup  # also re-exported

# name -> "module:attribute"; one line per command, each a thin layer over the Python API.
COMMANDS: dict[str, str] = {
    "data": "alignnet.cli.data:data",
    "align": "alignnet.cli.align:align",
    "demo": "alignnet.cli.demo:demo",
    "pretrain": "alignnet.cli.train:pretrain",
    "finetune": "alignnet.cli.train:finetune",
    "decode": "alignnet.cli.infer:decode",
    "simulate": "alignnet.cli.infer:simulate",
    "embed": "alignnet.cli.infer:embed",
    "benchmark": "alignnet.cli.benchmark:benchmark",
    "profile": "alignnet.cli.profile:profile",
    "export": "alignnet.cli.export:export",
    "falcon-eval": "alignnet.cli.falcon:falcon_eval",
    "stream": "alignnet.cli.stream:stream",
    "stream-replay": "alignnet.cli.stream:stream_replay",
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="alignnet")
def cli() -> None:
    """AlignNet: align intracortical spikes and behaviour across days; decode and simulate."""
    from alignnet.utils.outputs import release_claims

    release_claims()  # each command claims its own outputs (alignnet.utils.outputs)
    click.get_current_context().call_on_close(release_claims)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP: unwind like Ctrl-C, so temporary files are removed on the way out."""
    raise SystemExit(128 + signum)


def main() -> None:
    """Console entry point; turns AlignNet's own errors into one clear line and exit code 2."""
    import signal

    from alignnet.errors import AlignNetError

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except AlignNetError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except FileNotFoundError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
