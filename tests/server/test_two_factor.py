"""TOTP enrolment, a code once, backup codes once, trusted devices, reset by backup code."""
from __future__ import annotations

import time
from typing import Any

from server.security import totp_code

PW = "correct horse battery staple 42"


def _enrol(service: Any, headers: dict[str, str]) -> tuple[str, list[str]]:
    setup = service.client.post("/me/2fa/setup", headers=headers).json()
    assert setup["qr_svg"].startswith("data:image/svg+xml") and setup["otpauth_uri"].startswith("otpauth://totp/")
    secret = setup["secret"]
    r = service.client.post("/me/2fa/enable", headers=headers, json={"code": totp_code(secret, time.time() - 30)})
    assert r.status_code == 200, r.text
    codes = r.json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def test_totp_login_code_works_once(service: Any) -> None:
    headers = service.user("a@example.com")
    secret, _ = _enrol(service, headers)
    r = service.client.post("/auth/login", json={"email": "a@example.com", "password": PW})
    assert r.status_code == 401 and r.json()["error"]["code"] == "second_factor_required"
    code = totp_code(secret, time.time())
    assert service.client.post("/auth/login", json={"email": "a@example.com", "password": PW,
                                                    "otp": code}).status_code == 200
    r = service.client.post("/auth/login", json={"email": "a@example.com", "password": PW, "otp": code})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_second_factor"


def test_each_backup_code_works_once_and_codes_are_stored_hashed(service: Any) -> None:
    headers = service.user("a@example.com")
    _, codes = _enrol(service, headers)
    for code in codes[:3]:
        body = {"email": "a@example.com", "password": PW, "backup_code": code}
        assert service.client.post("/auth/login", json=body).status_code == 200
        assert service.client.post("/auth/login", json=body).status_code == 401
    from sqlalchemy import select

    from server.models import BackupCode

    with service.db() as db:
        stored = [row.code_hash for row in db.execute(select(BackupCode)).scalars()]
    assert len(stored) == 10 and not set(stored) & {c.replace("-", "") for c in codes}


def test_trusted_device_skips_the_second_factor(service: Any) -> None:
    headers = service.user("a@example.com")
    secret, _ = _enrol(service, headers)
    first = service.login("a@example.com", otp=totp_code(secret, time.time()), remember_device=True,
                          device_name="laptop")
    assert first["device_token"]
    again = service.login("a@example.com", device_token=first["device_token"])
    assert again["access_token"]
    r = service.client.post("/auth/login", json={"email": "a@example.com", "password": PW,
                                                 "device_token": "forged-device-token"})
    assert r.status_code == 401
    auth = {"Authorization": f"Bearer {again['access_token']}"}
    devices = service.client.get("/me/devices", headers=auth).json()
    assert [d["name"] for d in devices] == ["laptop"]
    assert service.client.delete(f"/me/devices/{devices[0]['id']}", headers=auth).status_code == 200
    r = service.client.post("/auth/login", json={"email": "a@example.com", "password": PW,
                                                 "device_token": first["device_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "second_factor_required"


def test_two_factor_reset_by_backup_code(service: Any) -> None:
    headers = service.user("a@example.com")
    _, codes = _enrol(service, headers)
    r = service.client.post("/auth/2fa/reset", json={"email": "a@example.com", "password": PW,
                                                     "backup_code": codes[0]})
    assert r.status_code == 200
    assert service.client.get("/me", headers=headers).status_code == 401  # sessions ended
    fresh = service.login("a@example.com")  # no second factor any more
    me = service.client.get("/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}).json()
    assert me["two_factor"] is False
    actions = [e["action"] for e in service.client.get(
        "/me/audit", headers={"Authorization": f"Bearer {fresh['access_token']}"}).json()["items"]]
    assert "2fa.reset_by_backup_code" in actions and "2fa.enabled" in actions
