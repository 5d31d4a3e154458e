"""A scripted Kubernetes API server for labforge's tests, built on kmock's KubernetesEmulator.

No cluster can run on the test machines, so the deploy code is tested against this: a plain-HTTP
API server on 127.0.0.1 that keeps objects in memory (kmock's object store, with history), serves
discovery from kmock's bundled resource list, and plays the controllers' part from a script.

    python emulator.py --scenario healthy [--rollout-delay-ms 300] [--port 0] [--strict-namespaces]

It prints one JSON line, ``{"port": N}``, when it is ready, then serves until SIGTERM/SIGINT.

What it adds on top of kmock (kmock 0.8 applies writes before any reaction runs, so a
server-side apply of a missing object is a 404 there; it keeps no resourceVersion, uid or
generation; it ignores label and field selectors; and its URL parser fails on /api/v1/namespaces):

* writes with the API server's semantics: create (POST), replace (PUT), patch (PATCH) with
  server-side apply (``application/apply-patch+yaml``, JSON or YAML body; creates a missing object
  and forgets fields the same manager applied before and no longer applies), JSON merge patch,
  strategic merge patch (treated as merge patch: lists are replaced) and JSON patch; delete with
  owner-reference garbage collection; ``dryRun=All`` stores nothing; the ``status`` subresource;
  uid, creationTimestamp, resourceVersion (one counter for all objects) and metadata.generation
  (bumped when ``spec`` changes). A write that changes nothing changes nothing, resourceVersion
  included. Writing into a namespace that does not exist creates it (unless --strict-namespaces).
* list and watch with labelSelector and fieldSelector (any dotted field path), watch from a
  resourceVersion (events are replayed from memory), timeoutSeconds.
* the controllers, scripted per scenario. When a Deployment or StatefulSet is created or its
  generation changes, its new pods are created (ContainerCreating) with a first status, before
  the write is answered; --rollout-delay-ms later (default 300) the scenario decides the rest:

  =====================  ==================================================================
  healthy                pods Running and Ready, workload status complete and available,
                         EndpointSlices/Endpoints ready, the time noted in /_emulator/available
  stale                  first a stale status (observedGeneration one behind or missing, but
                         every replica count complete, Available=True), then as healthy
  never                  pods stay ContainerCreating; status observedGeneration = generation,
                         availableReplicas 0, unavailableReplicas = replicas
  image-pull-backoff     Deployment pods: ImagePullBackOff and the kubelet's pull events
  crashloop              Deployment pods: CrashLoopBackOff, restartCount 5, last exit 1; the
                         pod log is a Python traceback (sqlalchemy cannot resolve the db host)
  oomkilled              Deployment pods: CrashLoopBackOff, last state OOMKilled exit 137
  pending-unschedulable  Deployment pods: Pending, Unschedulable (Insufficient memory)
  pending-pvc            StatefulSet pods: Pending, unbound PersistentVolumeClaims; the
                         Deployments stay unavailable as in ``never``
  probe-failing          Deployment pods: Running but not Ready, Unhealthy readiness events
  missing-secret-key     Deployment pods: CreateContainerConfigError (a missing Secret key)
  =====================  ==================================================================

  A Deployment's old pods stay until the new ones are ready, except as many as its strategy
  lets go at once: every one for Recreate, maxUnavailable (25 % by default, rounded down) for
  RollingUpdate; they go when the rollout starts, and the Service loses their endpoints.
  In the failure scenarios (other than pending-pvc) StatefulSets become healthy. A Deployment
  that does not become available gets Progressing=False ProgressDeadlineExceeded after its
  spec.progressDeadlineSeconds (default 600). A change of replicas alone keeps the running pods.
  Changing the scenario at run time affects the rollouts that start afterwards.
* pod logs (``.../pods/NAME/log``, with previous, tailLines, container), the Service and Pod
  proxy (``.../services/NAME[:PORT]/proxy/PATH``: the app answers /health and /ready when the
  Service has a ready endpoint, else 503 "no endpoints available"), and pod port-forward over
  WebSocket (subprotocol v4.channel.k8s.io, as kube-rs's ``Api::<Pod>::portforward`` speaks it) to
  an in-process HTTP server that answers /health and /ready like the app.
* control endpoints (not recorded in the request log):
  GET /_emulator/requests, DELETE /_emulator/requests, GET /_emulator/available,
  GET /_emulator/scenario, POST /_emulator/scenario ``{"scenario": NAME, "rollout_delay_ms": N}``,
  POST /_emulator/backends ``{"5432": "127.0.0.1:PORT"}`` (port-forwards to that container port
  reach this address instead of the in-process app: a real database or app stands in for the
  pods), POST /_emulator/exec ``{"prefix": ["docker", "exec", "NAME"]}`` (pod exec runs the
  command behind this prefix, its output and exit status sent back as the kubelet sends them).
"""

import argparse
import asyncio
import copy
import datetime
import hashlib
import json
import re
import signal
import sys
import time
import uuid

import aiohttp
import aiohttp.web
import jsonpatch
import kmock

try:
    import yaml
except ImportError:  # kube-rs sends JSON, which needs no YAML parser
    yaml = None

SCENARIOS = (
    'healthy', 'stale', 'never',
    'image-pull-backoff', 'crashloop', 'oomkilled', 'pending-unschedulable', 'pending-pvc',
    'probe-failing', 'missing-secret-key',
)
NODE = 'emulator-control-plane'
HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'  # the alphabet of pod-template-hash and pod suffixes

DEPLOYMENTS = kmock.resource('apps', 'v1', 'deployments')
STATEFULSETS = kmock.resource('apps', 'v1', 'statefulsets')
REPLICASETS = kmock.resource('apps', 'v1', 'replicasets')
PODS = kmock.resource('', 'v1', 'pods')
SERVICES = kmock.resource('', 'v1', 'services')
ENDPOINTS = kmock.resource('', 'v1', 'endpoints')
ENDPOINTSLICES = kmock.resource('discovery.k8s.io', 'v1', 'endpointslices')
EVENTS = kmock.resource('', 'v1', 'events')
EVENTS_V1 = kmock.resource('events.k8s.io', 'v1', 'events')
NAMESPACES = kmock.resource('', 'v1', 'namespaces')
NODES = kmock.resource('', 'v1', 'nodes')
PVCS = kmock.resource('', 'v1', 'persistentvolumeclaims')


def now_rfc3339():
    return datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def now_micro():
    return datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def short_hash(text, length):
    digest = hashlib.sha256(text.encode()).digest()
    return ''.join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:length])


def api_error(code, reason, message, **details):
    return kmock.KubernetesError(status=code, reason=reason, message=message, details=details)


def status_response(exc):
    """A Status object, as the API server answers errors."""
    return aiohttp.web.json_response({
        'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
        'message': exc.message, 'reason': exc.reason, 'details': exc.details or {}, 'code': exc.status,
    }, status=exc.status)


def qualified(res):
    """`deployments.apps`, `pods`: how the API server names a resource in messages."""
    return f'{res.plural}.{res.group}' if res.group else res.plural


# ---------------------------------------------------------------------------------------------
# URLs, selectors, patches
# ---------------------------------------------------------------------------------------------

def parse_api_path(path):
    """(resource, namespace, name, subresource) for a resource URL, None for anything else."""
    parts = [p for p in path.split('/') if p]
    if len(parts) >= 2 and parts[0] == 'api':
        group, version, rest = '', parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == 'apis':
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    # /namespaces/NS/PLURAL/... is namespaced; /namespaces/NS[/status|/finalize] is a Namespace.
    if len(rest) >= 3 and rest[0] == 'namespaces' and not (len(rest) == 3 and rest[2] in ('status', 'finalize')):
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None  # discovery: /api/v1, /apis/apps/v1
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = '/'.join(rest[2:]) or None
    return kmock.resource(group, version, plural), namespace, name, sub


def parse_label_selector(text):
    """`a=b,c!=d,e in (x,y),f notin (z),g,!h` as (key, op, values) triples."""
    reqs = []
    for term in re.split(r',(?![^()]*\))', text or ''):
        term = term.strip()
        if not term:
            continue
        if m := re.fullmatch(r'(\S+)\s+(in|notin)\s+\((.*)\)', term):
            reqs.append((m[1], m[2], {v.strip() for v in m[3].split(',') if v.strip()}))
        elif term.startswith('!'):
            reqs.append((term[1:].strip(), '!exists', None))
        elif '!=' in term:
            key, value = term.split('!=', 1)
            reqs.append((key.strip(), 'notin', {value.strip()}))
        elif '=' in term:
            key, value = re.split(r'==?', term, maxsplit=1)
            reqs.append((key.strip(), 'in', {value.strip()}))
        else:
            reqs.append((term, 'exists', None))
    return reqs


def labels_match(labels, reqs):
    labels = labels or {}
    for key, op, values in reqs:
        if op == 'exists' and key not in labels:
            return False
        if op == '!exists' and key in labels:
            return False
        if op == 'in' and labels.get(key) not in values:
            return False
        if op == 'notin' and key in labels and labels[key] in values:
            return False
    return True


def field_value(obj, dotted):
    value = obj
    for part in dotted.split('.'):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ''
    return str(value).lower() if isinstance(value, bool) else str(value)


def fields_match(obj, text):
    for term in (text or '').split(','):
        term = term.strip()
        if not term:
            continue
        negate = '!=' in term
        key, value = re.split(r'!=|==|=', term, maxsplit=1)
        if (field_value(obj, key.strip()) == value.strip()) == negate:
            return False
    return True


def selector_matches(selector, labels):
    """A Service/workload selector (`{k: v}` or `{matchLabels, matchExpressions}`) against labels."""
    if not selector:
        return False
    if 'matchLabels' in selector or 'matchExpressions' in selector:
        reqs = [(k, 'in', {v}) for k, v in (selector.get('matchLabels') or {}).items()]
        for e in selector.get('matchExpressions') or []:
            op = {'In': 'in', 'NotIn': 'notin', 'Exists': 'exists', 'DoesNotExist': '!exists'}[e['operator']]
            reqs.append((e['key'], op, set(e.get('values') or [])))
        return labels_match(labels, reqs)
    return labels_match(labels, [(k, 'in', {v}) for k, v in selector.items()])


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: dicts merge, null removes, everything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def forget_unapplied(target, last, new):
    """Server-side apply: drop the fields the manager applied last time but no longer applies."""
    for key, value in last.items():
        if not isinstance(new, dict) or key not in new:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            forget_unapplied(target[key], value, new[key])


# ---------------------------------------------------------------------------------------------
# The app behind Services and port-forwards, and canned pod logs
# ---------------------------------------------------------------------------------------------

def app_answer(path, ready):
    """What the generated app answers: (HTTP status, JSON body)."""
    path = '/' + path.lstrip('/').split('?')[0]
    if path == '/health':
        return 200, {'status': 'ok'}
    if path == '/ready':
        return (200, {'status': 'ready', 'database': 'ok'}) if ready else (503, {'status': 'not ready', 'database': 'unreachable'})
    return 404, {'detail': 'Not Found'}


def crash_traceback(app):
    return f'''INFO:     Started server process [1]
INFO:     Waiting for application startup.
ERROR:    Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 145, in __init__
    self._dbapi_connection = engine.raw_connection()
                             ^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/site-packages/starlette/routing.py", line 693, in lifespan
    async with self.lifespan_context(app) as maybe_state:
  File "/app/src/{app}/main.py", line 21, in lifespan
    await init_db()
  File "/app/src/{app}/db.py", line 34, in init_db
    async with engine.begin() as conn:
  File "/usr/local/lib/python3.12/site-packages/psycopg/connection_async.py", line 135, in connect
    raise last_ex.with_traceback(None)
psycopg.OperationalError: could not translate host name "{app}-postgres" to address: Name or service not known

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/uvicorn/lifespan/on.py", line 86, in main
    await app(scope, self.receive, self.send)
sqlalchemy.exc.OperationalError: could not translate host name "{app}-postgres" to address
'''


HEALTHY_LOG = '''INFO:     Started server process [1]
INFO:     Waiting for application startup.
INFO:     Application startup complete.
INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
INFO:     10.244.0.1:52314 - "GET /health HTTP/1.1" 200 OK
INFO:     10.244.0.1:52316 - "GET /ready HTTP/1.1" 200 OK
'''
UNREADY_LOG = HEALTHY_LOG.replace('"GET /ready HTTP/1.1" 200 OK', '"GET /ready HTTP/1.1" 503 Service Unavailable')


OOM_LOG = '''INFO:     Started server process [1]
INFO:     Waiting for application startup.
INFO:     Application startup complete.
INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
'''


def full_image(image):
    """The reference containerd reports: with a tag (`:latest` by default). containerd also
    prefixes the default registry's host to short names; the project writes no registry host
    names into files, so short names stay short here (`shop:0.1.0`)."""
    if '@' not in image and ':' not in image.rsplit('/', 1)[-1]:
        return image + ':latest'
    return image


# ---------------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------------

class Emulator(kmock.KubernetesEmulator):
    """kmock's KubernetesEmulator with API-server write semantics and scripted controllers."""

    def __init__(self, *, scenario='healthy', rollout_delay_ms=300, strict_namespaces=False):
        super().__init__()
        self.resources.load_bundled()
        self.scenario = scenario
        self.delay = rollout_delay_ms / 1000
        self.strict_namespaces = strict_namespaces
        self.t0 = time.monotonic()
        self.rv = 0  # the resourceVersion counter, shared by all objects
        self.history = []  # (rv, resource, event) for watches from a resourceVersion
        self.applied = {}  # (key, field manager) -> what that manager applied last
        self.request_log = []
        self.available = {}  # "deployments/NS/NAME" -> emulator time it became available
        self.rollouts = {}  # workload key -> its controller task
        self.streams = set()  # handlers of open watches and port-forwards, ended at shutdown
        self.next_ip = 10
        self.event_seq = 0
        self.app_ports = {}  # True/False (pod ready) -> port of the in-process app server
        self.backends = {}  # container port -> (host, port) that port-forwards to it reach instead
        self.exec_prefix = None  # argv a pod exec runs its command behind (e.g. docker exec NAME)

    def clock(self):
        return round(time.monotonic() - self.t0, 3)

    # --- the object store (kmock's ObjectsArray, with history) ---------------------------------

    def get(self, key):
        if key in self.objects and not self.objects[key].deleted:
            return copy.deepcopy(self.objects[key].raw)
        return None

    def list(self, res, namespace=None):
        return [
            copy.deepcopy(obj.raw)
            for (r, ns, _), obj in list(self.objects.items())
            if r == res and not obj.deleted and (namespace is None or ns == namespace)
        ]

    async def store(self, key, obj, event_type):
        """Stores a new version (or deletes) and tells the watchers, through kmock's buses."""
        self.rv += 1
        obj = copy.deepcopy(obj)
        obj['metadata']['resourceVersion'] = str(self.rv)
        if event_type == 'DELETED':
            self.objects[key].delete()
        elif key not in self.objects:
            self.objects[key] = obj
        else:
            self.objects[key].history.append(obj)
        event = {'type': event_type, 'object': obj}
        self.history.append((self.rv, key[0], event))
        await asyncio.shield(self._buses[key[0]].put(event))  # a cancelled controller must not lose it
        return copy.deepcopy(obj)

    def info(self, res):
        """What discovery says of a resource (kmock's bundled list: built-in kinds, no CRDs)."""
        if res not in self.resources:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        return self.resources[res]

    def api_version(self, res):
        return f'{res.group}/{res.version}' if res.group else res.version

    # --- the HTTP entry point -------------------------------------------------------------------

    async def __call__(self, raw):
        await raw.read()
        if raw.path.startswith('/_emulator/'):
            try:
                return await self.control(raw)
            except kmock.KubernetesError as exc:
                return status_response(exc)
        params = raw.rel_url.query
        entry = {
            'method': raw.method,
            'path': raw.raw_path,
            'content_type': raw.headers.get('Content-Type'),
            'write': raw.method in ('POST', 'PUT', 'PATCH', 'DELETE') and 'dryRun' not in params,
            'time': self.clock(),
            'status': None,
        }
        self.request_log.append(entry)
        try:
            parsed = parse_api_path(raw.path)
            if parsed is None:
                response = await super().__call__(raw)  # discovery, /version: kmock's own handlers
            else:
                response = await self.route(raw, *parsed)
        except kmock.KubernetesError as exc:
            response = status_response(exc)
        except Exception as exc:
            print(f'emulator: {raw.method} {raw.raw_path}: {exc!r}', file=sys.stderr)
            response = await self._render_error(exc)
        entry['status'] = response.status
        return response

    async def control(self, raw):
        path, method = raw.path, raw.method
        if path == '/_emulator/requests' and method == 'GET':
            return aiohttp.web.json_response(self.request_log)
        if path == '/_emulator/requests' and method == 'DELETE':
            cleared = len(self.request_log)
            self.request_log.clear()
            return aiohttp.web.json_response({'cleared': cleared})
        if path == '/_emulator/available' and method == 'GET':
            return aiohttp.web.json_response(self.available)
        if path == '/_emulator/scenario' and method in ('GET', 'POST'):
            if method == 'POST':
                try:
                    body = json.loads(await raw.read() or b'{}')
                except ValueError as exc:
                    raise api_error(400, 'BadRequest', f'not JSON: {exc}')
                if 'scenario' in body:
                    if body['scenario'] not in SCENARIOS:
                        raise api_error(400, 'BadRequest', f'unknown scenario {body["scenario"]!r}; known: {", ".join(SCENARIOS)}')
                    self.scenario = body['scenario']
                if 'rollout_delay_ms' in body:
                    self.delay = int(body['rollout_delay_ms']) / 1000
            return aiohttp.web.json_response({'scenario': self.scenario, 'rollout_delay_ms': round(self.delay * 1000)})
        if path == '/_emulator/backends' and method in ('GET', 'POST'):
            if method == 'POST':
                body = json.loads(await raw.read() or b'{}')
                for port, address in body.items():
                    host, _, number = address.rpartition(':')
                    self.backends[int(port)] = (host, int(number))
            return aiohttp.web.json_response({str(p): f'{h}:{n}' for p, (h, n) in self.backends.items()})
        if path == '/_emulator/exec' and method in ('GET', 'POST'):
            if method == 'POST':
                self.exec_prefix = list(json.loads(await raw.read() or b'{}').get('prefix') or []) or None
            return aiohttp.web.json_response({'prefix': self.exec_prefix})
        raise api_error(404, 'NotFound', f'no control endpoint {method} {path}')

    async def route(self, raw, res, namespace, name, sub):
        info = self.info(res)
        if namespace is not None and not info.namespaced:
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        params = raw.rel_url.query
        method = raw.method
        if res == PODS and sub == 'log' and method == 'GET':
            return await self.pod_log(namespace, name, params)
        if res == PODS and sub == 'portforward':
            return await self.port_forward(raw, namespace, name, params)
        if res == PODS and sub == 'exec':
            return await self.pod_exec(raw, namespace, name, params)
        if res in (SERVICES, PODS) and sub and (sub == 'proxy' or sub.startswith('proxy/')):
            return await self.proxy(res, namespace, name, raw.path.split(f'/{name}/proxy', 1)[1])
        if sub not in (None, 'status') or (info.namespaced and namespace is None and method != 'GET'):
            raise api_error(404, 'NotFound', 'the server could not find the requested resource')
        if name is None:
            if method == 'GET' and params.get('watch') in ('true', '1'):
                return await self.watch(raw, res, namespace, params)
            if method == 'GET':
                return aiohttp.web.json_response(self.list_response(res, namespace, params))
            if method == 'POST':
                return await self.create(raw, res, namespace, params)
            if method == 'DELETE':
                return await self.delete_collection(res, namespace, params)
        else:
            key = (res, namespace, name)
            if method == 'GET':
                obj = self.get(key)
                if obj is None:
                    raise self.not_found(res, name)
                return aiohttp.web.json_response(obj)
            if method == 'PUT':
                return await self.replace(raw, key, sub, params)
            if method == 'PATCH':
                return await self.patch(raw, key, sub, params)
            if method == 'DELETE':
                return await self.delete(key, params)
        raise api_error(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')

    def not_found(self, res, name):
        return api_error(404, 'NotFound', f'{qualified(res)} "{name}" not found', name=name, group=res.group, kind=res.plural)

    # --- reads ------------------------------------------------------------------------------------

    def matches(self, obj, params):
        meta = obj.get('metadata', {})
        return labels_match(meta.get('labels'), parse_label_selector(params.get('labelSelector'))) and \
            fields_match(obj, params.get('fieldSelector'))

    def list_response(self, res, namespace, params):
        info = self.info(res)
        return {
            'apiVersion': self.api_version(res),
            'kind': f'{info.kind}List',
            'metadata': {'resourceVersion': str(self.rv)},
            'items': [o for o in self.list(res, namespace) if self.matches(o, params)],
        }

    async def watch(self, raw, res, namespace, params):
        def wanted(event):
            meta = event['object'].get('metadata', {})
            return (namespace is None or meta.get('namespace') == namespace) and self.matches(event['object'], params)

        since = params.get('resourceVersion') or '0'
        since = int(since) if since.isdigit() else self.rv
        bus = self._buses[res]
        marker = await bus.mark()  # before the snapshot: nothing is missed, duplicates are skipped by rv
        if since == 0 or params.get('sendInitialEvents') == 'true':
            initial = [{'type': 'ADDED', 'object': o} for o in self.list(res, namespace)]
        else:  # replayed from memory: nothing is ever "too old" (410 Gone) here
            initial = [copy.deepcopy(e) for rv, r, e in self.history if rv > since and r == res]
        seen = self.rv
        response = aiohttp.web.StreamResponse(headers={'Content-Type': 'application/json'})
        self.streams.add(asyncio.current_task())
        try:
            await response.prepare(raw)
            async with asyncio.timeout(float(params.get('timeoutSeconds') or 1800)):
                for event in initial:
                    if wanted(event):
                        await response.write(json.dumps(event).encode() + b'\n')
                async for event in bus.stream(since=marker):
                    if int(event['object']['metadata']['resourceVersion']) > seen and wanted(event):
                        await response.write(json.dumps(event).encode() + b'\n')
        except (TimeoutError, ConnectionError, asyncio.CancelledError):
            pass  # the watch ends: its timeout, the client went away, or the server stops
        finally:
            self.streams.discard(asyncio.current_task())
            await bus.unmark(marker)
        try:
            await response.write_eof()
        except ConnectionError:
            pass
        return response

    # --- writes -----------------------------------------------------------------------------------

    async def read_body(self, raw):
        body = await raw.read()
        content_type = raw.content_type
        if not body:
            return None
        if 'yaml' in content_type:
            try:
                return json.loads(body)
            except ValueError:
                if yaml is None:
                    raise api_error(415, 'UnsupportedMediaType', 'YAML bodies need PyYAML in the emulator; send JSON')
                return yaml.safe_load(body)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise api_error(400, 'BadRequest', f'the body of the request is not valid JSON: {exc}')

    def check_identity(self, res, namespace, name, obj):
        if not isinstance(obj, dict):
            raise api_error(400, 'BadRequest', 'the body of the request must be an object')
        meta = obj.setdefault('metadata', {})
        if name is not None and meta.get('name') not in (None, name):
            raise api_error(400, 'BadRequest', f'the name of the object ({meta["name"]}) does not match the name on the URL ({name})')
        if namespace is not None and meta.get('namespace') not in (None, namespace):
            raise api_error(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
        info = self.info(res)
        if obj.get('kind') not in (None, info.kind) or obj.get('apiVersion') not in (None, self.api_version(res)):
            raise api_error(400, 'BadRequest', f'{obj.get("apiVersion")}, Kind={obj.get("kind")} is not {self.api_version(res)}, Kind={info.kind}')
        obj['apiVersion'] = self.api_version(res)
        obj['kind'] = info.kind
        if name is not None:
            meta['name'] = name
        if info.namespaced:
            meta['namespace'] = namespace

    def with_defaults(self, res, obj, old):
        """What the API server's defaulting adds, applied on every write (so it is idempotent)."""
        meta, spec = obj['metadata'], obj.get('spec')
        if res == NAMESPACES:
            meta.setdefault('labels', {})['kubernetes.io/metadata.name'] = meta['name']
            obj['status'] = (old or {}).get('status') or {'phase': 'Active'}
        if res in (DEPLOYMENTS, STATEFULSETS) and isinstance(spec, dict):
            spec.setdefault('replicas', 1)
        if res == SERVICES and isinstance(spec, dict):
            spec.setdefault('type', 'ClusterIP')
            if spec['type'] != 'ExternalName' and 'clusterIP' not in spec:
                old_ip = ((old or {}).get('spec') or {}).get('clusterIP')
                if old_ip is None:
                    self.next_ip += 1
                spec['clusterIP'] = old_ip or f'10.96.{self.next_ip // 250}.{self.next_ip % 250}'
                spec['clusterIPs'] = [spec['clusterIP']]
            for port in spec.get('ports') or []:
                port.setdefault('protocol', 'TCP')
                port.setdefault('targetPort', port.get('port'))
        return obj

    async def ensure_namespace(self, namespace, dry_run=False):
        if namespace is None or self.get((NAMESPACES, None, namespace)) is not None:
            return
        if self.strict_namespaces:
            raise api_error(404, 'NotFound', f'namespaces "{namespace}" not found', name=namespace, kind='namespaces')
        if not dry_run:
            await self.put_new(NAMESPACES, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': namespace}})

    @staticmethod
    def record_manager(meta, old_meta, manager, operation):
        """managedFields as the API server keeps them: one entry per manager and operation
        (the fields themselves are not tracked here)."""
        entries = [e for e in (old_meta or {}).get('managedFields', [])
                   if not (e.get('manager') == manager and e.get('operation') == operation)]
        if manager:
            entries.append({'manager': manager, 'operation': operation, 'apiVersion': 'v1',
                            'time': now_rfc3339(), 'fieldsType': 'FieldsV1', 'fieldsV1': {}})
        if entries:
            meta['managedFields'] = entries
        else:
            meta.pop('managedFields', None)

    async def put_new(self, res, obj, dry_run=False, internal=False, manager=None, operation='Update'):
        """Creates an object: the server-set metadata, defaults, then the controllers. The
        controllers' own objects (`internal`) are created with their status and uid."""
        meta = obj['metadata']
        key = (res, meta.get('namespace'), meta['name'])
        if self.get(key) is not None:
            raise api_error(409, 'AlreadyExists', f'{qualified(res)} "{meta["name"]}" already exists', name=meta['name'], group=res.group, kind=res.plural)
        if 'status' in self.info(res).subresources and not internal:
            obj.pop('status', None)
        uid = meta.get('uid') if internal and meta.get('uid') else str(uuid.uuid4())
        meta.update(uid=uid, creationTimestamp=now_rfc3339(), generation=1)
        for field in ('resourceVersion', 'managedFields', 'deletionTimestamp'):
            meta.pop(field, None)
        self.record_manager(meta, None, manager, operation)
        obj = self.with_defaults(res, obj, None)
        await self.ensure_namespace(meta.get('namespace'), dry_run)
        if dry_run:
            return obj
        stored = await self.store(key, obj, 'ADDED')
        await self.after_write(key, None, stored)
        return stored

    async def put_changed(self, key, old, new, sub, dry_run=False, manager=None, operation='Update'):
        """Stores `new` over `old` unless nothing changed; bumps generation on a spec change."""
        res = key[0]
        if sub == 'status':  # the status subresource writes status only
            new = dict(copy.deepcopy(old), status=new.get('status'))
        elif 'status' in self.info(res).subresources:
            new['status'] = copy.deepcopy(old.get('status'))
        if new.get('status') is None:
            new.pop('status', None)
        meta = new.setdefault('metadata', {})
        for field in ('uid', 'creationTimestamp', 'generation', 'resourceVersion', 'name', 'namespace', 'deletionTimestamp', 'managedFields'):
            if field in old['metadata']:
                meta[field] = old['metadata'][field]
            else:
                meta.pop(field, None)
        new = self.with_defaults(res, new, old)
        if new.get('spec') != old.get('spec'):
            meta['generation'] = old['metadata'].get('generation', 1) + 1
        if new == old or dry_run:
            return new
        self.record_manager(meta, old['metadata'], manager, operation)
        stored = await self.store(key, new, 'MODIFIED')
        await self.after_write(key, old, stored)
        return stored

    async def create(self, raw, res, namespace, params):
        obj = await self.read_body(raw)
        self.check_identity(res, namespace, None, obj)
        meta = obj['metadata']
        if not meta.get('name'):
            if not meta.get('generateName'):
                raise api_error(422, 'Invalid', 'metadata.name: Required value: name or generateName is required')
            meta['name'] = meta['generateName'] + short_hash(str(uuid.uuid4()), 5)
        stored = await self.put_new(res, obj, dry_run='dryRun' in params, manager=params.get('fieldManager', 'unknown'))
        return aiohttp.web.json_response(stored, status=201)

    async def replace(self, raw, key, sub, params):
        res, namespace, name = key
        obj = await self.read_body(raw)
        self.check_identity(res, namespace, name, obj)
        old = self.get(key)
        if old is None:
            raise self.not_found(res, name)
        sent_rv = obj['metadata'].get('resourceVersion')
        if sent_rv and sent_rv != old['metadata']['resourceVersion']:
            raise api_error(409, 'Conflict', f'Operation cannot be fulfilled on {qualified(res)} "{name}": the object has been modified; please apply your changes to the latest version and try again', name=name, group=res.group, kind=res.plural)
        stored = await self.put_changed(key, old, obj, sub, dry_run='dryRun' in params, manager=params.get('fieldManager', 'unknown'))
        return aiohttp.web.json_response(stored)

    async def patch(self, raw, key, sub, params):
        res, namespace, name = key
        content_type = raw.content_type
        body = await self.read_body(raw)
        old = self.get(key)
        dry_run = 'dryRun' in params
        if content_type == 'application/apply-patch+yaml':
            if not isinstance(body, dict) or not body.get('kind') or not body.get('apiVersion'):
                kind = body.get('kind', '') if isinstance(body, dict) else ''
                raise api_error(400, 'BadRequest', f'invalid object type: /, Kind={kind}')
            self.check_identity(res, namespace, name, body)
            manager = params.get('fieldManager')
            if not manager:
                raise api_error(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
            if sub is None and 'status' in self.info(res).subresources:
                body.pop('status', None)
            if old is None:
                if sub == 'status':
                    raise self.not_found(res, name)
                stored = await self.put_new(res, copy.deepcopy(body), dry_run=dry_run, manager=manager, operation='Apply')
                if not dry_run:
                    self.applied[(key, manager)] = body
                return aiohttp.web.json_response(stored, status=201)
            new = copy.deepcopy(old)
            if (key, manager) in self.applied:
                forget_unapplied(new, self.applied[(key, manager)], body)
            new = merge_patch(new, body)
            stored = await self.put_changed(key, old, new, sub, dry_run=dry_run, manager=manager, operation='Apply')
            if not dry_run:
                self.applied[(key, manager)] = body
            return aiohttp.web.json_response(stored)
        if old is None:
            raise self.not_found(res, name)
        if content_type in ('application/merge-patch+json', 'application/strategic-merge-patch+json'):
            new = merge_patch(old, body or {})
        elif content_type == 'application/json-patch+json':
            try:
                new = jsonpatch.apply_patch(old, body or [])
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise api_error(422, 'Invalid', f'the server rejected our request due to an error in our request: {exc}')
        else:
            raise api_error(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml')
        stored = await self.put_changed(key, old, new, sub, dry_run=dry_run, manager=params.get('fieldManager', 'unknown'))
        return aiohttp.web.json_response(stored)

    async def delete(self, key, params):
        res, _, name = key
        old = self.get(key)
        if old is None:
            raise self.not_found(res, name)
        if 'dryRun' not in params:
            await self.remove(key)
        return aiohttp.web.json_response({
            'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success',
            'details': {'name': name, 'group': res.group, 'kind': res.plural, 'uid': old['metadata'].get('uid')},
        })

    async def delete_collection(self, res, namespace, params):
        items = [o for o in self.list(res, namespace) if self.matches(o, params)]
        if 'dryRun' not in params:
            for obj in items:
                await self.remove((res, obj['metadata'].get('namespace'), obj['metadata']['name']))
        return aiohttp.web.json_response({'apiVersion': self.api_version(res), 'kind': f'{self.info(res).kind}List', 'metadata': {}, 'items': items})

    async def remove(self, key):
        """Deletes an object and, like the garbage collector, what it owns (or contains)."""
        old = self.get(key)
        if old is None:
            return
        if key in self.rollouts:
            self.rollouts.pop(key).cancel()
        await self.store(key, old, 'DELETED')
        self.applied = {k: v for k, v in self.applied.items() if k[0] != key}
        uid = old['metadata'].get('uid')
        for (res, ns, name), obj in list(self.objects.items()):
            if obj.deleted:
                continue
            owners = [o.get('uid') for o in obj.get('metadata', {}).get('ownerReferences') or []]
            if uid in owners or (key[0] == NAMESPACES and ns == key[2]):
                await self.remove((res, ns, name))
        if key[0] in (PODS, SERVICES) and self.get((NAMESPACES, None, key[1])) is not None:
            await self.sync_endpoints(key[1])

    # --- controllers ------------------------------------------------------------------------------

    async def after_write(self, key, old, new):
        """Starts the controllers' reaction. The write's answer waits for the first step (the pods
        and the first status), so a client reading right after its write sees them."""
        res = key[0]
        generation = new['metadata'].get('generation')
        if res in (DEPLOYMENTS, STATEFULSETS) and (old is None or old['metadata'].get('generation') != generation):
            if key in self.rollouts:
                self.rollouts[key].cancel()
            started = asyncio.get_running_loop().create_future()
            self.rollouts[key] = asyncio.create_task(self.rollout(key, self.scenario, started))
            await started
        if res == SERVICES:
            await self.sync_endpoints(key[1])

    def mode(self, scenario, res):
        """What the scenario does to this kind of workload."""
        if scenario in ('healthy', 'stale', 'never'):
            return scenario
        if scenario == 'pending-pvc':
            return scenario if res == STATEFULSETS else 'never'
        return scenario if res == DEPLOYMENTS else 'healthy'

    async def set_status(self, key, status):
        old = self.get(key)
        if old is not None and old.get('status') != status:
            new = dict(copy.deepcopy(old), status=status)
            await self.store(key, new, 'MODIFIED')

    async def rollout(self, key, scenario, started):
        try:
            await self._rollout(key, self.mode(scenario, key[0]), started)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must not go unnoticed, but must not kill the server
            print(f'emulator: rollout of {key[0].plural}/{key[1]}/{key[2]} failed: {exc!r}', file=sys.stderr)
        finally:
            if not started.done():
                started.set_result(None)

    async def _rollout(self, key, mode, started):
        res, namespace, name = key
        workload = self.get(key)
        generation = workload['metadata']['generation']
        desired = workload['spec'].get('replicas', 1)
        template = workload['spec'].get('template') or {}
        template_hash = short_hash(json.dumps(template, sort_keys=True), 10)
        labels = dict((template.get('metadata') or {}).get('labels') or {})
        owned = [p for p in self.list(PODS, namespace) if self.owned_by(p, workload)]

        # Pods of the current template are kept (a change of replicas only scales); the others are
        # old: a Deployment replaces them once the new ones are available, a StatefulSet at once.
        if res == DEPLOYMENTS:
            rs_name = f'{name}-{template_hash}'
            owner = await self.ensure_replicaset(workload, rs_name, template_hash, desired)
            pod_labels = dict(labels, **{'pod-template-hash': template_hash})
            current = [p for p in owned if p['metadata']['labels'].get('pod-template-hash') == template_hash]
            old_pods = [p for p in owned if p not in current]
            kept = current[:desired]
            names = [f'{rs_name}-{short_hash(f"{rs_name}/{generation}/{i}", 5)}' for i in range(len(kept), desired)]
        else:
            revision = f'{name}-{template_hash}'
            owner, pod_labels = workload, dict(labels, **{'controller-revision-hash': revision})
            kept = [p for p in owned if p['metadata']['labels'].get('controller-revision-hash') == revision
                    and int(p['metadata']['name'].rsplit('-', 1)[1]) < desired]
            current, old_pods = kept, []
            names = [f'{name}-{i}' for i in range(desired) if f'{name}-{i}' not in [p['metadata']['name'] for p in kept]]
            await self.ensure_pvcs(workload, desired, bound=(mode != 'pending-pvc'))
        for pod in owned:
            if pod not in kept and (res == STATEFULSETS or pod in current):
                await self.remove((PODS, namespace, pod['metadata']['name']))
        if res == DEPLOYMENTS and old_pods:
            # The strategy decides how many old pods stop before new ones are ready: all of them
            # (Recreate), or maxUnavailable of them (RollingUpdate; 25 % by default, rounded down).
            stopping = len(old_pods) if self.recreates(workload) else min(len(old_pods), self.max_unavailable(workload, desired))
            for pod in old_pods[:stopping]:
                await self.remove((PODS, namespace, pod['metadata']['name']))
            old_pods = old_pods[stopping:]
            if stopping:
                await self.sync_endpoints(namespace)
        new_pods = []
        for pod_name in names:
            if res == STATEFULSETS:
                pod_labels['statefulset.kubernetes.io/pod-name'] = pod_name
            initial = mode if mode in ('pending-unschedulable', 'pending-pvc') else 'creating'
            new_pods.append(await self.create_pod(owner, namespace, pod_name, pod_labels, template, initial))
        old_ready = sum(1 for p in old_pods + kept if self.pod_ready(p))

        if mode == 'stale':
            await self.set_status(key, self.workload_status(res, workload, desired, desired, stale=True))
        else:
            # During the rollout the old pods still count: the rollout is not complete while any remains.
            await self.set_status(key, self.workload_status(res, workload, old_ready, desired,
                                                            replicas=len(old_pods) + len(kept) + len(new_pods),
                                                            updated=len(kept) + len(new_pods)))
        started.set_result(None)
        await asyncio.sleep(self.delay)

        if mode in ('healthy', 'stale'):
            for pod in kept + new_pods:
                await self.set_pod_state(pod, 'running')
            for pod in old_pods:
                await self.remove((PODS, namespace, pod['metadata']['name']))
            if res == DEPLOYMENTS:
                for other in self.list(REPLICASETS, namespace):
                    if self.owned_by(other, workload):
                        ready = desired if other['metadata']['name'] == rs_name else 0
                        await self.scale_replicaset(other, ready)
            await self.set_status(key, self.workload_status(res, workload, desired, desired))
            self.available[f'{res.plural}/{namespace}/{name}'] = self.clock()
        elif mode != 'never':
            for pod in new_pods:
                await self.set_pod_state(pod, mode)
        await self.sync_endpoints(namespace)

        if res == DEPLOYMENTS and mode not in ('healthy', 'stale'):
            # The Deployment controller gives up after spec.progressDeadlineSeconds (default 600).
            await asyncio.sleep(max(0.0, workload['spec'].get('progressDeadlineSeconds', 600) - self.delay))
            status = copy.deepcopy(self.get(key)['status'])
            now = now_rfc3339()
            status['conditions'] = [c for c in status.get('conditions', []) if c['type'] != 'Progressing'] + [
                {'type': 'Progressing', 'status': 'False', 'reason': 'ProgressDeadlineExceeded',
                 'message': f'ReplicaSet "{rs_name}" has timed out progressing.', 'lastUpdateTime': now, 'lastTransitionTime': now}]
            await self.set_status(key, status)

    @staticmethod
    def recreates(deployment):
        return ((deployment['spec'].get('strategy') or {}).get('type') or 'RollingUpdate') == 'Recreate'

    @staticmethod
    def max_unavailable(deployment, desired):
        value = ((deployment['spec'].get('strategy') or {}).get('rollingUpdate') or {}).get('maxUnavailable', '25%')
        if isinstance(value, str) and value.endswith('%'):
            return int(desired * float(value[:-1]) / 100)
        return int(value)

    def owned_by(self, obj, owner):
        uids = [o.get('uid') for o in obj.get('metadata', {}).get('ownerReferences') or []]
        if owner['metadata']['uid'] in uids:
            return True
        # A Deployment's pods belong to its ReplicaSets.
        return any(
            rs['metadata']['uid'] in uids
            for rs in self.list(REPLICASETS, owner['metadata'].get('namespace'))
            if owner['metadata']['uid'] in [o.get('uid') for o in rs['metadata'].get('ownerReferences') or []]
        )

    def owner_ref(self, owner):
        return {
            'apiVersion': owner['apiVersion'], 'kind': owner['kind'], 'name': owner['metadata']['name'],
            'uid': owner['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True,
        }

    def workload_status(self, res, workload, available, desired, stale=False, replicas=None, updated=None):
        generation = workload['metadata']['generation']
        observed = generation - 1 if stale else generation
        name = workload['metadata']['name']
        template_hash = short_hash(json.dumps(workload['spec'].get('template') or {}, sort_keys=True), 10)
        complete = available >= desired
        status = {'observedGeneration': observed} if observed >= 1 else {}
        if res == STATEFULSETS:
            revision = f'{name}-{template_hash}'
            previous = (workload.get('status') or {}).get('currentRevision', revision)
            status.update(replicas=desired, currentReplicas=desired if complete else 0, updatedReplicas=desired if complete else 0,
                          readyReplicas=available, availableReplicas=available,
                          currentRevision=revision if complete else previous, updateRevision=revision, collisionCount=0)
            return status
        now = now_rfc3339()
        status.update(replicas=desired if replicas is None else replicas, updatedReplicas=desired if updated is None else updated,
                      readyReplicas=available, availableReplicas=available)
        if not complete:
            status['unavailableReplicas'] = desired - available
        status['conditions'] = [
            {'type': 'Available', 'status': 'True' if complete else 'False',
             'reason': 'MinimumReplicasAvailable' if complete else 'MinimumReplicasUnavailable',
             'message': 'Deployment has minimum availability.' if complete else 'Deployment does not have minimum availability.',
             'lastUpdateTime': now, 'lastTransitionTime': now},
            {'type': 'Progressing', 'status': 'True',
             'reason': 'NewReplicaSetAvailable' if complete else 'ReplicaSetUpdated',
             'message': f'ReplicaSet "{name}-{template_hash}" ' + ('has successfully progressed.' if complete else 'is progressing.'),
             'lastUpdateTime': now, 'lastTransitionTime': now},
        ]
        return status

    async def ensure_replicaset(self, deployment, rs_name, template_hash, desired):
        namespace = deployment['metadata']['namespace']
        existing = self.get((REPLICASETS, namespace, rs_name))
        if existing is not None:
            return existing
        template = copy.deepcopy(deployment['spec'].get('template') or {})
        template.setdefault('metadata', {}).setdefault('labels', {})['pod-template-hash'] = template_hash
        selector = copy.deepcopy(deployment['spec'].get('selector') or {})
        selector.setdefault('matchLabels', {})['pod-template-hash'] = template_hash
        return await self.put_new(REPLICASETS, {
            'apiVersion': 'apps/v1', 'kind': 'ReplicaSet',
            'metadata': {'name': rs_name, 'namespace': namespace, 'labels': dict(template['metadata']['labels']),
                         'ownerReferences': [self.owner_ref(deployment)]},
            'spec': {'replicas': desired, 'selector': selector, 'template': template},
        })

    async def scale_replicaset(self, rs, ready):
        key = (REPLICASETS, rs['metadata']['namespace'], rs['metadata']['name'])
        new = copy.deepcopy(rs)
        new['spec']['replicas'] = ready
        await self.put_changed(key, rs, new, None)
        await self.set_status(key, {'replicas': ready, 'readyReplicas': ready, 'availableReplicas': ready, 'fullyLabeledReplicas': ready, 'observedGeneration': self.get(key)['metadata']['generation']})

    async def ensure_pvcs(self, sts, desired, bound):
        namespace = sts['metadata']['namespace']
        for claim in sts['spec'].get('volumeClaimTemplates') or []:
            for i in range(desired):
                pvc_name = f'{claim["metadata"]["name"]}-{sts["metadata"]["name"]}-{i}'
                key = (PVCS, namespace, pvc_name)
                if self.get(key) is None:
                    await self.put_new(PVCS, {
                        'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
                        'metadata': {'name': pvc_name, 'namespace': namespace, 'labels': dict(sts['spec'].get('selector', {}).get('matchLabels') or {})},
                        'spec': copy.deepcopy(claim.get('spec') or {}),
                    })
                await self.set_status(key, {'phase': 'Bound' if bound else 'Pending'})
                if not bound:
                    pvc = self.get(key)
                    await self.event(pvc, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', 'persistentvolume-controller')

    # --- pods -------------------------------------------------------------------------------------

    async def create_pod(self, owner, namespace, name, labels, template, state):
        spec = copy.deepcopy(template.get('spec') or {})
        spec.setdefault('containers', [])
        if state not in ('pending-unschedulable', 'pending-pvc'):
            spec['nodeName'] = NODE
        self.next_ip += 1
        ip = f'10.244.{self.next_ip // 250}.{self.next_ip % 250}'
        pod = {
            'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'name': name, 'namespace': namespace, 'labels': dict(labels),
                         'annotations': dict((template.get('metadata') or {}).get('annotations') or {}),
                         'ownerReferences': [self.owner_ref(owner)]},
            'spec': spec,
        }
        pod['metadata']['uid'] = str(uuid.uuid4())  # pod_status() names it
        pod['status'] = self.pod_status(pod, state, ip)
        return await self.put_new(PODS, pod, internal=True)

    def pod_ready(self, pod):
        return any(c.get('type') == 'Ready' and c.get('status') == 'True' for c in (pod.get('status') or {}).get('conditions') or [])

    def pod_status(self, pod, state, ip):
        """A pod status the way the kubelet/scheduler writes it, for `state`."""
        now = now_rfc3339()
        meta = pod['metadata']
        containers = pod['spec'].get('containers') or []
        names = ' '.join(c.get('name', '') for c in containers)

        def cond(kind, ok, reason=None, message=None):
            c = {'type': kind, 'status': 'True' if ok else 'False', 'lastProbeTime': None, 'lastTransitionTime': now}
            if reason:
                c['reason'] = reason
            if message:
                c['message'] = message
            return c

        if state in ('pending-unschedulable', 'pending-pvc'):
            message = '0/1 nodes are available: 1 Insufficient memory.' if state == 'pending-unschedulable' \
                else '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.'
            return {'phase': 'Pending', 'qosClass': 'BestEffort',
                    'conditions': [cond('PodScheduled', False, 'Unschedulable', message)]}

        def container_status(c):
            image = c.get('image', '')
            status = {'name': c.get('name'), 'image': image, 'imageID': '', 'ready': False, 'restartCount': 0, 'started': False,
                      'state': {'waiting': {'reason': 'ContainerCreating'}}, 'lastState': {}}
            container_id = 'containerd://' + hashlib.sha256(f'{meta["uid"]}/{c.get("name")}'.encode()).hexdigest()
            image_id = full_image(image).rsplit(':', 1)[0] + '@sha256:' + hashlib.sha256(image.encode()).hexdigest()
            terminated = {'exitCode': 1, 'reason': 'Error', 'startedAt': now, 'finishedAt': now, 'containerID': container_id}
            if state == 'running':
                status.update(ready=True, started=True, imageID=image_id, containerID=container_id, state={'running': {'startedAt': now}})
            elif state == 'probe-failing':
                status.update(started=True, imageID=image_id, containerID=container_id, state={'running': {'startedAt': now}})
            elif state == 'image-pull-backoff':
                status['state'] = {'waiting': {'reason': 'ImagePullBackOff', 'message': f'Back-off pulling image "{image}"'}}
            elif state in ('crashloop', 'oomkilled'):
                if state == 'oomkilled':
                    terminated.update(exitCode=137, reason='OOMKilled')
                status.update(restartCount=5, imageID=image_id, containerID=container_id, lastState={'terminated': terminated},
                              state={'waiting': {'reason': 'CrashLoopBackOff', 'message': f'back-off 2m40s restarting failed container={c.get("name")} pod={meta["name"]}_{meta["namespace"]}({meta["uid"]})'}})
            elif state == 'missing-secret-key':
                status['state'] = {'waiting': {'reason': 'CreateContainerConfigError', 'message': self.secret_message(pod)}}
            return status

        ready = state == 'running'
        phase = 'Running' if state in ('running', 'probe-failing', 'crashloop', 'oomkilled') else 'Pending'
        unready = None if ready else f'containers with unready status: [{names}]'
        return {
            'phase': phase, 'hostIP': '172.18.0.2', 'hostIPs': [{'ip': '172.18.0.2'}], 'podIP': ip, 'podIPs': [{'ip': ip}],
            'startTime': now, 'qosClass': 'BestEffort',
            'conditions': [
                cond('PodReadyToStartContainers', True), cond('Initialized', True),
                cond('Ready', ready, None if ready else 'ContainersNotReady', unready),
                cond('ContainersReady', ready, None if ready else 'ContainersNotReady', unready),
                cond('PodScheduled', True),
            ],
            'containerStatuses': [container_status(c) for c in containers],
        }

    def secret_message(self, pod):
        namespace = pod['metadata']['namespace']
        for c in pod['spec'].get('containers') or []:
            for env in c.get('env') or []:
                ref = (env.get('valueFrom') or {}).get('secretKeyRef')
                if ref:
                    return f"couldn't find key {ref.get('key')} in Secret {namespace}/{ref.get('name')}"
        app = pod['metadata']['ownerReferences'][0]['name'].rsplit('-', 1)[0]
        return f"couldn't find key JWT_SECRET in Secret {namespace}/{app}-secrets"

    async def set_pod_state(self, pod, state):
        key = (PODS, pod['metadata']['namespace'], pod['metadata']['name'])
        pod = self.get(key)
        if pod is None:
            return
        await self.set_status(key, self.pod_status(pod, state, (pod.get('status') or {}).get('podIP')))
        pod = self.get(key)
        c = (pod['spec'].get('containers') or [{}])[0]
        container, image = c.get('name', 'app'), c.get('image', '')
        path = f'spec.containers{{{container}}}'
        meta = pod['metadata']
        if state == 'image-pull-backoff':
            ref = full_image(image)
            await self.event(pod, 'Normal', 'Pulling', f'Pulling image "{image}"', 'kubelet', path, count=3)
            await self.event(pod, 'Warning', 'Failed', f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": {ref}: not found', 'kubelet', path, count=3)
            await self.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull', 'kubelet', path, count=3)
            await self.event(pod, 'Normal', 'BackOff', f'Back-off pulling image "{image}"', 'kubelet', path, count=4)
            await self.event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', 'kubelet', path, count=4)
        elif state in ('crashloop', 'oomkilled'):
            await self.event(pod, 'Warning', 'BackOff', f'Back-off restarting failed container {container} in pod {meta["name"]}_{meta["namespace"]}({meta["uid"]})', 'kubelet', path, count=5)
        elif state in ('pending-unschedulable', 'pending-pvc'):
            await self.event(pod, 'Warning', 'FailedScheduling', pod['status']['conditions'][0]['message'], 'default-scheduler')
        elif state == 'probe-failing':
            await self.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 'kubelet', path, count=10)
        elif state == 'missing-secret-key':
            await self.event(pod, 'Warning', 'Failed', f'Error: {self.secret_message(pod)}', 'kubelet', path, count=3)

    async def event(self, obj, kind, reason, message, component, field_path=None, count=1):
        """A core/v1 Event about `obj`, and its events.k8s.io/v1 twin (the same event, new API)."""
        meta = obj['metadata']
        self.event_seq += 1
        digest = hashlib.sha256(f'{meta["uid"]}/{self.event_seq}'.encode()).hexdigest()
        name = f'{meta["name"]}.{digest[:16]}'
        involved = {'apiVersion': obj['apiVersion'], 'kind': obj['kind'], 'name': meta['name'], 'namespace': meta.get('namespace'),
                    'uid': meta['uid'], 'resourceVersion': meta['resourceVersion']}
        if field_path:
            involved['fieldPath'] = field_path
        host = NODE if component == 'kubelet' else None
        now = now_rfc3339()
        core = {
            'apiVersion': 'v1', 'kind': 'Event', 'metadata': {'name': name, 'namespace': meta.get('namespace') or 'default'},
            'involvedObject': involved, 'reason': reason, 'message': message, 'type': kind, 'count': count,
            'source': {'component': component, **({'host': host} if host else {})},
            'firstTimestamp': now, 'lastTimestamp': now, 'eventTime': None,
            'reportingComponent': component, 'reportingInstance': host or '',
        }
        await self.put_new(EVENTS, core)
        await self.put_new(EVENTS_V1, {
            'apiVersion': 'events.k8s.io/v1', 'kind': 'Event', 'metadata': dict(core['metadata']),
            'regarding': involved, 'reason': reason, 'note': message, 'type': kind, 'eventTime': now_micro(),
            'reportingController': component, 'reportingInstance': host or '', 'action': reason,
            'deprecatedCount': count, 'deprecatedFirstTimestamp': now, 'deprecatedLastTimestamp': now,
            'deprecatedSource': core['source'],
        })

    # --- services: endpoints and proxy -------------------------------------------------------

    def service_pods(self, service):
        selector = (service.get('spec') or {}).get('selector')
        return [p for p in self.list(PODS, service['metadata']['namespace'])
                if selector_matches(selector, p['metadata'].get('labels')) and (p.get('status') or {}).get('podIP')]

    async def sync_endpoints(self, namespace):
        """The endpoint controllers: an Endpoints and an EndpointSlice per Service with a selector."""
        if self.get((NAMESPACES, None, namespace)) is None:
            return
        for service in self.list(SERVICES, namespace):
            if not (service.get('spec') or {}).get('selector'):
                continue
            name = service['metadata']['name']
            pods = self.service_pods(service)
            ports = [{**({'name': p['name']} if p.get('name') else {}), 'port': self.target_port(p, pods), 'protocol': p.get('protocol', 'TCP')}
                     for p in service['spec'].get('ports') or []]
            address = lambda pod: {'ip': pod['status']['podIP'], 'nodeName': NODE,
                                   'targetRef': {'kind': 'Pod', 'name': pod['metadata']['name'], 'namespace': namespace, 'uid': pod['metadata']['uid']}}
            ready = [address(p) for p in pods if self.pod_ready(p)]
            not_ready = [address(p) for p in pods if not self.pod_ready(p)]
            subset = {'ports': ports}
            if ready:
                subset['addresses'] = ready
            if not_ready:
                subset['notReadyAddresses'] = not_ready
            labels = dict(service['metadata'].get('labels') or {})
            await self.upsert((ENDPOINTS, namespace, name), {
                'apiVersion': 'v1', 'kind': 'Endpoints', 'metadata': {'name': name, 'namespace': namespace, 'labels': labels},
                'subsets': [subset] if pods else [],
            })
            slice_name = f'{name}-{short_hash(name, 5)}'
            await self.upsert((ENDPOINTSLICES, namespace, slice_name), {
                'apiVersion': 'discovery.k8s.io/v1', 'kind': 'EndpointSlice', 'addressType': 'IPv4',
                'metadata': {'name': slice_name, 'namespace': namespace, 'ownerReferences': [self.owner_ref(service)],
                             'labels': dict(labels, **{'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'})},
                'endpoints': [
                    {'addresses': [p['status']['podIP']], 'nodeName': NODE,
                     'conditions': {'ready': self.pod_ready(p), 'serving': self.pod_ready(p), 'terminating': False},
                     'targetRef': {'kind': 'Pod', 'name': p['metadata']['name'], 'namespace': namespace, 'uid': p['metadata']['uid']}}
                    for p in pods
                ],
                'ports': ports,
            })

    def target_port(self, port, pods):
        target = port.get('targetPort', port.get('port'))
        if isinstance(target, str):  # a named container port
            for pod in pods:
                for c in pod['spec'].get('containers') or []:
                    for p in c.get('ports') or []:
                        if p.get('name') == target:
                            return p.get('containerPort')
        return target

    async def upsert(self, key, obj):
        old = self.get(key)
        if old is None:
            await self.put_new(key[0], obj)
        else:
            await self.put_changed(key, old, obj, None)

    async def proxy(self, res, namespace, name, path):
        parts = name.split(':')
        target = parts[1] if len(parts) == 3 else parts[0]  # NAME, NAME:PORT, SCHEME:NAME:PORT
        obj = self.get((res, namespace, target))
        if obj is None:
            raise self.not_found(res, target)
        if res == SERVICES:
            ready = [p for p in self.service_pods(obj) if self.pod_ready(p)]
            if not ready:
                raise api_error(503, 'ServiceUnavailable', f'no endpoints available for service "{target}"')
            status, body = app_answer(path, ready=True)
        else:
            running = any('running' in (c.get('state') or {}) for c in (obj.get('status') or {}).get('containerStatuses') or [])
            if not running:
                raise api_error(503, 'ServiceUnavailable', f'error trying to reach service: dial tcp {(obj.get("status") or {}).get("podIP", "")}: connect: connection refused')
            status, body = app_answer(path, ready=self.pod_ready(obj))
        return aiohttp.web.json_response(body, status=status)

    # --- pod logs ---------------------------------------------------------------------------------

    async def pod_log(self, namespace, name, params):
        pod = self.get((PODS, namespace, name))
        if pod is None:
            raise self.not_found(PODS, name)
        containers = [c.get('name') for c in pod['spec'].get('containers') or []]
        container = params.get('container') or (containers[0] if containers else '')
        if container not in containers:
            raise api_error(400, 'BadRequest', f'container {container} is not valid for pod {name}')
        pod_status = pod.get('status') or {}
        statuses = {s['name']: s for s in pod_status.get('containerStatuses') or []}
        status = statuses.get(container)
        app = pod['metadata']['ownerReferences'][0]['name'] if pod['metadata'].get('ownerReferences') else name
        app = app.rsplit('-', 1)[0] if pod['metadata'].get('labels', {}).get('pod-template-hash') else app
        if status is None:
            raise api_error(400, 'BadRequest', f'container "{container}" in pod "{name}" is not available' if pod_status.get('phase') == 'Pending'
                            else f'container "{container}" in pod "{name}" is waiting to start: PodInitializing')
        last = (status.get('lastState') or {}).get('terminated')
        state = status.get('state') or {}
        if last and last.get('reason') == 'OOMKilled':
            text = OOM_LOG
        elif last:
            text = crash_traceback(app)
        elif 'running' in state:
            text = HEALTHY_LOG if status.get('ready') else UNREADY_LOG
        elif params.get('previous') == 'true':
            raise api_error(400, 'BadRequest', f'previous terminated container "{container}" in pod "{name}" not found')
        else:
            reason = (state.get('waiting') or {}).get('reason', 'ContainerCreating')
            reason = 'image can\'t be pulled' if reason == 'ImagePullBackOff' else reason
            raise api_error(400, 'BadRequest', f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        if params.get('tailLines'):
            lines = text.splitlines(keepends=True)
            text = ''.join(lines[-int(params['tailLines']):]) if int(params['tailLines']) > 0 else ''
        return aiohttp.web.Response(text=text, content_type='text/plain')

    # --- port-forward -----------------------------------------------------------------------------

    async def start_app_servers(self):
        """The in-process HTTP servers behind port-forwards: one for ready pods, one for unready."""
        async def handle(request):
            ready = request.transport.get_extra_info('sockname')[1] == self.app_ports[True]
            status, body = app_answer(request.path, ready)
            return aiohttp.web.json_response(body, status=status)

        app = aiohttp.web.Application()
        app.router.add_route('*', '/{tail:.*}', handle)
        self.app_runner = aiohttp.web.AppRunner(app, access_log=None)
        await self.app_runner.setup()
        for ready in (True, False):
            await aiohttp.web.TCPSite(self.app_runner, '127.0.0.1', 0).start()
            self.app_ports[ready] = self.app_runner.addresses[-1][1]

    async def port_forward(self, raw, namespace, name, params):
        pod = self.get((PODS, namespace, name))
        if pod is None:
            raise self.not_found(PODS, name)
        phase = (pod.get('status') or {}).get('phase')
        if phase != 'Running':
            raise api_error(400, 'BadRequest', f'unable to upgrade connection: pod is not running. Current status={phase}')
        ports = [int(p) for value in params.getall('ports', []) for p in value.split(',') if p.strip()]
        if not ports:
            raise api_error(400, 'BadRequest', 'at least 1 port must be specified')
        running = all('running' in (s.get('state') or {}) for s in pod['status'].get('containerStatuses') or [])
        ws = aiohttp.web.WebSocketResponse(protocols=('v4.channel.k8s.io',))
        await ws.prepare(raw)
        self.streams.add(asyncio.current_task())
        streams = {}  # data channel -> (reader, writer) to the app server
        pumps = []
        for i, port in enumerate(ports):
            for channel in (2 * i, 2 * i + 1):  # each channel opens with its port, 2 bytes little-endian
                await ws.send_bytes(bytes([channel]) + port.to_bytes(2, 'little'))
            if not running:
                message = f'error forwarding port {port} to pod {pod["metadata"]["uid"]}: failed to connect to localhost:{port}: connection refused'
                await ws.send_bytes(bytes([2 * i + 1]) + message.encode())
                continue
            host, number = self.backends.get(port) or ('127.0.0.1', self.app_ports[self.pod_ready(pod)])
            reader, writer = await asyncio.open_connection(host, number)
            streams[2 * i] = (reader, writer)
            pumps.append(asyncio.create_task(self.pump_from_app(ws, 2 * i, reader)))
        to_app = asyncio.create_task(self.pump_to_app(ws, streams))
        try:
            # Until the client closes, or the app closes every connection (then the client's
            # port streams end with the WebSocket, as kube-rs expects).
            while not to_app.done() and not all(p.done() for p in pumps):
                await asyncio.wait([to_app, *[p for p in pumps if not p.done()]], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # the server stops
        finally:
            self.streams.discard(asyncio.current_task())
            for task in [to_app, *pumps]:
                task.cancel()
            for _, writer in streams.values():
                writer.close()
            await ws.close()
        return ws

    async def pod_exec(self, raw, namespace, name, params):
        """A command in a pod, over WebSocket (v4.channel.k8s.io): its stdout on channel 1, its
        stderr on 2, then its Status on 3. It runs behind the scripted prefix (POST
        /_emulator/exec {"prefix": ["docker", "exec", "NAME"]}): the pod is that container."""
        pod = self.get((PODS, namespace, name))
        if pod is None:
            raise self.not_found(PODS, name)
        if (pod.get('status') or {}).get('phase') != 'Running':
            raise api_error(400, 'BadRequest', f'unable to upgrade connection: pod {name} is not running')
        command = params.getall('command', [])
        if self.exec_prefix is None:
            raise api_error(400, 'BadRequest', 'exec is not scripted: POST /_emulator/exec {"prefix": [...]} first')
        ws = aiohttp.web.WebSocketResponse(protocols=('v4.channel.k8s.io',))
        await ws.prepare(raw)
        self.streams.add(asyncio.current_task())
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.exec_prefix, *command, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await proc.communicate()
            if out:
                await ws.send_bytes(b'\x01' + out)
            if err:
                await ws.send_bytes(b'\x02' + err)
            if proc.returncode == 0:
                status = {'metadata': {}, 'status': 'Success'}
            else:
                status = {'metadata': {}, 'status': 'Failure', 'reason': 'NonZeroExitCode',
                          'message': f'command terminated with non-zero exit code: exit status {proc.returncode}',
                          'details': {'causes': [{'reason': 'ExitCode', 'message': str(proc.returncode)}]}}
            await ws.send_bytes(b'\x03' + json.dumps(status).encode())
        finally:
            self.streams.discard(asyncio.current_task())
            await ws.close()
        return ws

    async def pump_to_app(self, ws, streams):
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.BINARY and len(msg.data) > 1 and msg.data[0] in streams:
                writer = streams[msg.data[0]][1]
                writer.write(msg.data[1:])
                await writer.drain()

    async def pump_from_app(self, ws, channel, reader):
        try:
            while data := await reader.read(65536):
                await ws.send_bytes(bytes([channel]) + data)
        except (ConnectionError, RuntimeError):
            pass

    # --- start-up ---------------------------------------------------------------------------------

    async def bootstrap(self):
        for namespace in ('default', 'kube-system', 'kube-public', 'kube-node-lease'):
            await self.put_new(NAMESPACES, {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': namespace}})
        await self.put_new(NODES, {
            'apiVersion': 'v1', 'kind': 'Node',
            'metadata': {'name': NODE, 'labels': {'kubernetes.io/hostname': NODE, 'node-role.kubernetes.io/control-plane': ''}},
            'spec': {'podCIDR': '10.244.0.0/24'},
        })
        await self.set_status((NODES, None, NODE), {
            'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status'}],
            'addresses': [{'type': 'InternalIP', 'address': '172.18.0.2'}, {'type': 'Hostname', 'address': NODE}],
            'nodeInfo': {'kubeletVersion': 'v1.33.1', 'containerRuntimeVersion': 'containerd://2.1.1', 'architecture': 'amd64', 'operatingSystem': 'linux'},
        })
        await self.start_app_servers()


async def serve(args):
    emulator = Emulator(scenario=args.scenario, rollout_delay_ms=args.rollout_delay_ms, strict_namespaces=args.strict_namespaces)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with emulator, kmock.Server(emulator, host='127.0.0.1', port=args.port or None) as server:
        await emulator.bootstrap()
        print(json.dumps({'port': server.port}), flush=True)
        await stop.wait()
        for task in [*emulator.rollouts.values(), *emulator.streams]:
            task.cancel()
        await emulator.app_runner.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scenario', default='healthy', choices=SCENARIOS)
    parser.add_argument('--rollout-delay-ms', type=int, default=300)
    parser.add_argument('--port', type=int, default=0, help='0 (the default) picks a free port')
    parser.add_argument('--strict-namespaces', action='store_true', help='404 for writes into a missing namespace, as a real cluster')
    asyncio.run(serve(parser.parse_args()))


if __name__ == '__main__':
    main()
