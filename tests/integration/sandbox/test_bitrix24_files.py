"""File user field `UF_CRM_INVOICE_PDF` and timeline comments with attachments."""

from __future__ import annotations

import base64

import httpx

from tests.integration.sandbox.b24 import Portal

PDF = b"%PDF-1.4 invoice 123"
PDF2 = b"%PDF-1.4 invoice 124"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def download(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return response.content


def test_set_with_file_data_and_read_back_links(portal: Portal) -> None:
    value = {"fileData": ["invoice-123.pdf", b64(PDF)]}
    portal.result("crm.deal.update", {"id": 1, "fields": {"UF_CRM_INVOICE_PDF": value}})
    files = portal.result("crm.deal.get", {"id": 1})["UF_CRM_INVOICE_PDF"]
    assert len(files) == 1
    assert set(files[0]) == {"id", "showUrl", "downloadUrl"}
    assert isinstance(files[0]["id"], int)
    assert download(portal.client, files[0]["downloadUrl"]) == PDF
    assert download(portal.client, files[0]["showUrl"]) == PDF


def test_keeping_existing_files_means_passing_their_ids(portal: Portal) -> None:
    first = {"fileData": ["a.pdf", b64(PDF)]}
    portal.result("crm.deal.update", {"id": 2, "fields": {"UF_CRM_INVOICE_PDF": first}})
    kept = portal.result("crm.deal.get", {"id": 2})["UF_CRM_INVOICE_PDF"][0]["id"]
    both = [{"id": kept}, {"fileData": ["b.pdf", b64(PDF2)]}]
    portal.result("crm.deal.update", {"id": 2, "fields": {"UF_CRM_INVOICE_PDF": both}})
    files = portal.result("crm.deal.get", {"id": 2})["UF_CRM_INVOICE_PDF"]
    assert files[0]["id"] == kept and len(files) == 2
    assert download(portal.client, files[1]["downloadUrl"]) == PDF2
    replaced = {"fileData": ["c.pdf", b64(PDF)]}
    portal.result("crm.deal.update", {"id": 2, "fields": {"UF_CRM_INVOICE_PDF": replaced}})
    ids = [f["id"] for f in portal.result("crm.deal.get", {"id": 2})["UF_CRM_INVOICE_PDF"]]
    assert len(ids) == 1 and kept not in ids
    portal.result("crm.deal.update", {"id": 2, "fields": {"UF_CRM_INVOICE_PDF": ""}})
    assert portal.result("crm.deal.get", {"id": 2})["UF_CRM_INVOICE_PDF"] == []


def test_file_data_in_a_bracket_form_body(portal: Portal) -> None:
    form = {
        "id": "3",
        "fields[UF_CRM_INVOICE_PDF][fileData][0]": "form.pdf",
        "fields[UF_CRM_INVOICE_PDF][fileData][1]": b64(PDF),
    }
    assert portal.client.post(portal.hook + "crm.deal.update", data=form).json()["result"] is True
    files = portal.result("crm.deal.get", {"id": 3})["UF_CRM_INVOICE_PDF"]
    assert download(portal.client, files[0]["downloadUrl"]) == PDF


def test_timeline_comment_with_files(portal: Portal) -> None:
    fields = {
        "ENTITY_ID": 4,
        "ENTITY_TYPE": "deal",
        "COMMENT": "Рахунок №123 від 1С",
        "FILES": [["invoice-123.pdf", b64(PDF)]],
    }
    cid = portal.result("crm.timeline.comment.add", {"fields": fields})
    assert isinstance(cid, int)
    comment = portal.result("crm.timeline.comment.get", {"id": cid})
    assert comment["COMMENT"] == "Рахунок №123 від 1С" and comment["ENTITY_ID"] == "4"
    (attached,) = comment["FILES"].values()
    assert attached["name"] == "invoice-123.pdf" and attached["size"] == len(PDF)
    assert download(portal.client, attached["urlDownload"]) == PDF
    listed = portal.result(
        "crm.timeline.comment.list", {"filter": {"ENTITY_ID": 4, "ENTITY_TYPE": "deal"}}
    )
    assert [c["ID"] for c in listed] == [str(cid)]
    assert portal.result("crm.timeline.comment.list", {"filter": {"ENTITY_ID": 5}}) == []


def test_timeline_comment_errors(portal: Portal) -> None:
    missing = portal.call(
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_ID": 999, "ENTITY_TYPE": "deal", "COMMENT": "x"}},
    )
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "NOT_FOUND", "error_description": "Not found."},
    )
    uppercase = portal.call(
        "crm.timeline.comment.add",
        {"FIELDS": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal", "COMMENT": "x"}},
    )
    assert uppercase.status_code == 400  # only lowercase `fields` since crm 23.100.0
    absent = portal.call("crm.timeline.comment.get", {"id": 12345})
    assert absent.json() == {"error": "", "error_description": "Not found."}
