#!/usr/bin/env python3
"""Drives one third-party OAuth/JOSE client library against a running wif server.

    python wif_interop.py CASE

Cases that obtain a token (they read WIF_SUBJECT_TOKEN_FILE as the workload's token):
    google-auth               google.auth.identity_pool.Credentials (RFC 8693 exchange at {issuer}/token)
    azure-client-assertion    azure.identity.ClientAssertionCredential (client_credentials + client_assertion)
    azure-workload-identity   azure.identity.WorkloadIdentityCredential, configured by AKS's environment variables
    msal                      msal.ConfidentialClientApplication.acquire_token_for_client
Cases that verify a token wif issued (WIF_ACCESS_TOKEN) against wif's discovery document and JWKS:
    pyjwt-verify, joserfc-verify
And one that parses {issuer}/metrics with prometheus_client's text parser:
    metrics-parse

Inputs come from the environment: WIF_ISSUER (https base URL, no trailing slash), WIF_CA_FILE (PEM of the
CA that signed wif's TLS certificate), WIF_SUBJECT_TOKEN_FILE, WIF_AUDIENCE, WIF_SCOPE (space-separated),
WIF_CLIENT_ID, WIF_TENANT, WIF_ACCESS_TOKEN.

Prints exactly one JSON object on stdout and exits 0 on success; on failure prints the reason on stderr and
exits 1. Exits 3 when a library is not installed (run scripts/interop-setup.sh), so nothing skips silently.
"""
import datetime
import importlib
import json
import os
import ssl
import sys
import traceback


class Failure(Exception):
    """A check failed: the message is the whole story."""


def env(name):
    value = os.environ.get(name)
    if not value:
        raise Failure(f"environment variable {name} is not set")
    return value


def require(module, distribution):
    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"MISSING LIBRARY: {distribution} (run scripts/interop-setup.sh)", file=sys.stderr)
        sys.exit(3)


def trust_wif_ca():
    """Trust wif's CA everywhere: in the environment for any HTTP stack a library builds for itself, and
    explicitly (session(), ssl_context()) where the library takes one. Verification is never disabled."""
    ca_file = env("WIF_CA_FILE")
    if not os.path.isfile(ca_file):
        raise Failure(f"WIF_CA_FILE {ca_file} does not exist")
    # requests lets REQUESTS_CA_BUNDLE override a session's verify, and CI images often set it: point it here.
    os.environ["REQUESTS_CA_BUNDLE"] = ca_file
    os.environ["SSL_CERT_FILE"] = ca_file
    # wif listens on loopback; an HTTPS_PROXY inherited from CI must not intercept it.
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"]))


def session():
    requests = require("requests", "requests")
    http = requests.Session()
    http.verify = env("WIF_CA_FILE")
    return http


def ssl_context():
    return ssl.create_default_context(cafile=env("WIF_CA_FILE"))


def read_subject_token():
    """The token file's content exactly as a client reads it (a trailing newline is kept)."""
    with open(env("WIF_SUBJECT_TOKEN_FILE"), encoding="utf-8") as f:
        return f.read()


def entra_scope():
    return env("WIF_AUDIENCE") + "/.default"


def issued(access_token, **lifetime):
    """The output of an obtain case. google-auth returns a response without access_token as token None."""
    if not isinstance(access_token, str) or not access_token:
        raise Failure(f"the library returned no access token (got {access_token!r})")
    return {"access_token": access_token, **lifetime}


# Obtaining a token


def google_auth():
    identity_pool = require("google.auth.identity_pool", "google-auth")
    transport = require("google.auth.transport.requests", "google-auth")
    credentials = identity_pool.Credentials.from_info(
        {
            "type": "external_account",
            "audience": env("WIF_AUDIENCE"),
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": env("WIF_ISSUER") + "/token",
            "credential_source": {"file": env("WIF_SUBJECT_TOKEN_FILE")},
        },
        scopes=env("WIF_SCOPE").split(),
    )
    credentials.refresh(transport.Request(session()))
    expiry = credentials.expiry.replace(tzinfo=credentials.expiry.tzinfo or datetime.timezone.utc)
    return issued(credentials.token, expiry=expiry.isoformat())


def azure_token(credential):
    token = credential.get_token(entra_scope())
    return issued(token.token, expires_on=int(token.expires_on))


def azure_client_assertion():
    identity = require("azure.identity", "azure-identity")
    return azure_token(
        identity.ClientAssertionCredential(
            tenant_id=env("WIF_TENANT"),
            client_id=env("WIF_CLIENT_ID"),
            func=read_subject_token,
            authority=env("WIF_ISSUER"),  # an https URL; a bare host[:port] would get https:// prepended
            disable_instance_discovery=True,
            connection_verify=env("WIF_CA_FILE"),
        )
    )


def azure_workload_identity():
    identity = require("azure.identity", "azure-identity")
    # What the AKS workload identity webhook injects into a pod.
    os.environ.update(
        AZURE_TENANT_ID=env("WIF_TENANT"),
        AZURE_CLIENT_ID=env("WIF_CLIENT_ID"),
        AZURE_FEDERATED_TOKEN_FILE=env("WIF_SUBJECT_TOKEN_FILE"),
        AZURE_AUTHORITY_HOST=env("WIF_ISSUER"),
    )
    return azure_token(
        identity.WorkloadIdentityCredential(disable_instance_discovery=True, connection_verify=env("WIF_CA_FILE"))
    )


def msal_client():
    msal = require("msal", "msal")
    app = msal.ConfidentialClientApplication(
        env("WIF_CLIENT_ID"),
        authority=f"{env('WIF_ISSUER')}/{env('WIF_TENANT')}",
        client_credential={"client_assertion": read_subject_token},
        instance_discovery=False,
        http_client=session(),
    )
    result = app.acquire_token_for_client(scopes=[entra_scope()])
    if "access_token" not in result:
        raise Failure(f"msal returned no access_token: {json.dumps(result)}")
    if not isinstance(result.get("expires_in"), int):  # msal passes the response's value through untouched
        raise Failure(f"expires_in in the token response is {result.get('expires_in')!r}, not a JSON integer")
    return issued(result["access_token"], expires_in=result["expires_in"])


# Verifying a token wif issued


def discovered_jwks_uri():
    issuer = env("WIF_ISSUER")
    response = session().get(issuer + "/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    config = response.json()
    if config.get("issuer") != issuer:
        raise Failure(f"discovery document issuer {config.get('issuer')!r} is not {issuer!r}")
    return config["jwks_uri"]


def check_typ(header):
    if header.get("typ") != "at+jwt":
        raise Failure(f"access token header typ is {header.get('typ')!r}, expected 'at+jwt' (RFC 9068)")
    return header


def pyjwt_verify():
    jwt = require("jwt", "PyJWT[crypto]")
    require("cryptography", "PyJWT[crypto]")
    token = env("WIF_ACCESS_TOKEN")
    key = jwt.PyJWKClient(discovered_jwks_uri(), ssl_context=ssl_context()).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience=env("WIF_AUDIENCE"),
        issuer=env("WIF_ISSUER"),
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    return {"header": check_typ(jwt.get_unverified_header(token)), "claims": claims}


def joserfc_verify():
    jose_jwt = require("joserfc.jwt", "joserfc")
    jwk = require("joserfc.jwk", "joserfc")
    response = session().get(discovered_jwks_uri(), timeout=10)
    response.raise_for_status()
    token = jose_jwt.decode(env("WIF_ACCESS_TOKEN"), jwk.KeySet.import_key_set(response.json()), algorithms=["ES256"])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": env("WIF_ISSUER")},
        aud={"essential": True, "value": env("WIF_AUDIENCE")},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)
    return {"header": check_typ(dict(token.header)), "claims": token.claims}


def metrics_parse():
    """Parses wif's /metrics with the Prometheus project's own text-format parser."""
    parser = require("prometheus_client.parser", "prometheus_client")
    response = session().get(env("WIF_ISSUER") + "/metrics", timeout=10)
    response.raise_for_status()
    families = {}
    for family in parser.text_string_to_metric_families(response.text):
        families[family.name] = {
            "type": family.type,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
        }
    return {"families": families}


CASES = {
    "google-auth": google_auth,
    "azure-client-assertion": azure_client_assertion,
    "azure-workload-identity": azure_workload_identity,
    "msal": msal_client,
    "pyjwt-verify": pyjwt_verify,
    "joserfc-verify": joserfc_verify,
    "metrics-parse": metrics_parse,
}


def main(argv):
    if len(argv) != 2 or argv[1] not in CASES:
        print(f"usage: {argv[0]} {{{','.join(CASES)}}}", file=sys.stderr)
        return 2
    case = argv[1]
    try:
        trust_wif_ca()
        result = CASES[case]()
    except Failure as failure:
        print(f"{case}: {failure}", file=sys.stderr)
        return 1
    except Exception as error:  # a library refused: show where, then the one-line reason
        traceback.print_exc(file=sys.stderr)
        print(f"{case}: {type(error).__name__}: {str(error).replace(chr(10), ' | ')}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
