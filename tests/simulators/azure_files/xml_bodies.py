"""XML bodies shaped like the Azure Files REST API: the error body and the directory listing."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One listed item: a directory, or a file with its size."""

    name: str
    file_id: str
    is_directory: bool
    size: int = 0


@dataclass(frozen=True)
class ListingPage:
    """One page of List Directories and Files."""

    service_endpoint: str
    share: str
    directory: str
    prefix: str | None
    marker: str | None
    max_results: int | None
    entries: list[Entry]
    next_marker: str


def _document(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _child(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def error_xml(code: str, message: str) -> bytes:
    """`<Error><Code/><Message/></Error>`."""
    root = ET.Element("Error")
    _child(root, "Code", code)
    _child(root, "Message", message)
    return _document(root)


def listing_xml(page: ListingPage) -> bytes:
    """`<EnumerationResults>` with `<Entries>` of `<Directory>` and `<File>` items and a `<NextMarker>`."""
    root = ET.Element(
        "EnumerationResults",
        {"ServiceEndpoint": page.service_endpoint, "ShareName": page.share, "DirectoryPath": page.directory},
    )
    if page.prefix is not None:
        _child(root, "Prefix", page.prefix)
    if page.marker is not None:
        _child(root, "Marker", page.marker)
    if page.max_results is not None:
        _child(root, "MaxResults", str(page.max_results))
    entries = _child(root, "Entries")
    for entry in page.entries:
        item = _child(entries, "Directory" if entry.is_directory else "File")
        _child(item, "Name", entry.name)
        _child(item, "FileId", entry.file_id)
        properties = _child(item, "Properties")
        if not entry.is_directory:
            _child(properties, "Content-Length", str(entry.size))
    _child(root, "NextMarker", page.next_marker)
    return _document(root)
