"""HDF5 files (NWB) must hold their own data: links or datasets that point into other files
are refused before the file is read, so a crafted recording cannot make a command read a
path outside the dataset."""

from __future__ import annotations

from pathlib import Path

from alignnet.errors import FileFormatError


def check_self_contained(path: str | Path) -> None:
    """Refuse an HDF5 file with external links, external-file datasets or virtual datasets.

    A file h5py cannot open is left to the caller's reader (which names that problem).

    Raises:
        FileFormatError: naming the file and the first such objects.
    """
    import h5py

    found: list[str] = []

    def link(name: str, value: object) -> None:
        if isinstance(value, h5py.ExternalLink):
            found.append(f"external link {name} -> {value.filename}:{value.path}")

    def dataset(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset) and (obj.is_virtual or obj.external):
            found.append(f"dataset {name} stored in another file")

    try:
        handle = h5py.File(path, "r")
    except OSError:
        return
    with handle:
        try:
            handle.visititems_links(link)
            handle.visititems(dataset)
        except Exception as exc:  # h5py errors of a damaged file
            raise FileFormatError(
                f"truncated or corrupt HDF5 file ({type(exc).__name__}: {exc})", source=path
            ) from None
    if found:
        raise FileFormatError(
            f"points outside itself ({'; '.join(found[:3])}); only self-contained NWB files "
            "are read",
            source=path,
        )
