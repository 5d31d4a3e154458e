"""Self-test of emulator.py: starts it as a subprocess and talks to it with urllib.

    cd tests/k8s && python -m unittest -v test_emulator     # with the tools venv's python
"""

import asyncio
import json
import pathlib
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import aiohttp

HERE = pathlib.Path(__file__).resolve().parent
DELAY_MS = 200
APPLY = 'application/apply-patch+yaml'
SSA = '?fieldManager=labforge&force=true'


def deployment(name, image='shop:0.1.0', replicas=1, env=None):
    container = {'name': 'app', 'image': image, 'ports': [{'name': 'http', 'containerPort': 8000}]}
    if env:
        container['env'] = env
    return {
        'apiVersion': 'apps/v1', 'kind': 'Deployment',
        'metadata': {'name': name, 'labels': {'app': name}},
        'spec': {
            'replicas': replicas,
            'selector': {'matchLabels': {'app': name}},
            'template': {'metadata': {'labels': {'app': name}}, 'spec': {'containers': [container]}},
        },
    }


def service(name):
    return {
        'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': name},
        'spec': {'selector': {'app': name}, 'ports': [{'name': 'http', 'port': 80, 'targetPort': 'http'}]},
    }


class EmulatorCase(unittest.TestCase):
    """One emulator process per test class, started with ARGS; helpers to talk to it."""
    ARGS = []

    @classmethod
    def setUpClass(cls):
        cls.proc = subprocess.Popen(
            [sys.executable, str(HERE / 'emulator.py'), '--scenario', 'healthy', '--rollout-delay-ms', str(DELAY_MS), *cls.ARGS],
            stdout=subprocess.PIPE, text=True,
        )
        line = cls.proc.stdout.readline()
        cls.port = json.loads(line)['port']
        cls.base = f'http://127.0.0.1:{cls.port}'

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        assert cls.proc.wait(timeout=10) == 0

    # --- helpers ---

    def call(self, method, path, body=None, content_type='application/json'):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header('Content-Type', content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                is_json = resp.headers.get_content_type() == 'application/json'
                return resp.status, json.loads(raw) if is_json else raw.decode()
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b'null')

    def get(self, path):
        return self.call('GET', path)

    def apply(self, path, body, query=SSA):
        return self.call('PATCH', path + query, body, APPLY)

    def scenario(self, name):
        status, body = self.call('POST', '/_emulator/scenario', {'scenario': name})
        self.assertEqual((status, body['scenario']), (200, name))

    def eventually(self, check, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail(f'not within {timeout} s: {check}')
            time.sleep(0.05)

    def deploy(self, ns, name, **kwargs):
        status, obj = self.apply(f'/apis/apps/v1/namespaces/{ns}/deployments/{name}', deployment(name, **kwargs))
        self.assertIn(status, (200, 201), obj)
        return obj

    def pods(self, ns, selector):
        return self.get(f'/api/v1/namespaces/{ns}/pods?labelSelector={selector}')[1]['items']

    def events_for(self, ns, pod):
        return self.get(f'/api/v1/namespaces/{ns}/events?fieldSelector=involvedObject.name%3D{pod}')[1]['items']


class EmulatorTest(EmulatorCase):
    # --- server-side apply, generation, resourceVersion ---

    def test_ssa_creates_a_missing_object(self):
        status, obj = self.apply('/apis/apps/v1/namespaces/ssa/deployments/shop', deployment('shop'))
        self.assertEqual(status, 201)
        meta = obj['metadata']
        self.assertEqual(meta['namespace'], 'ssa')
        self.assertEqual(meta['generation'], 1)
        for field in ('uid', 'resourceVersion', 'creationTimestamp'):
            self.assertTrue(meta.get(field), field)
        self.assertEqual(self.get('/apis/apps/v1/namespaces/ssa/deployments/shop')[1]['metadata']['uid'], meta['uid'])
        # The namespace did not exist: it was created.
        self.assertEqual(self.get('/api/v1/namespaces/ssa')[0], 200)

    def test_ssa_reapply_changes_nothing(self):
        self.deploy('noop', 'shop')
        time.sleep(DELAY_MS / 1000 + 0.3)  # let the rollout finish writing status
        before = self.get('/apis/apps/v1/namespaces/noop/deployments/shop')[1]
        status, after = self.apply('/apis/apps/v1/namespaces/noop/deployments/shop', deployment('shop'))
        self.assertEqual(status, 200)
        self.assertEqual(after['metadata']['resourceVersion'], before['metadata']['resourceVersion'])
        self.assertEqual(after['metadata']['generation'], 1)

    def test_spec_change_bumps_generation_metadata_change_does_not(self):
        first = self.deploy('gen', 'shop')
        second = self.deploy('gen', 'shop', image='shop:0.2.0')
        self.assertEqual(second['metadata']['generation'], 2)
        self.assertNotEqual(second['metadata']['resourceVersion'], first['metadata']['resourceVersion'])
        body = deployment('shop', image='shop:0.2.0')
        body['metadata']['labels']['tier'] = 'web'
        third = self.apply('/apis/apps/v1/namespaces/gen/deployments/shop', body)[1]
        self.assertEqual(third['metadata']['generation'], 2)
        self.assertEqual(third['metadata']['labels']['tier'], 'web')
        # Applying without the label again removes it: the manager no longer applies it.
        fourth = self.deploy('gen', 'shop', image='shop:0.2.0')
        self.assertNotIn('tier', fourth['metadata']['labels'])

    def test_dry_run_stores_nothing(self):
        status, obj = self.apply('/apis/apps/v1/namespaces/dry/deployments/shop', deployment('shop'), SSA + '&dryRun=All')
        self.assertEqual(status, 201)
        self.assertEqual(obj['metadata']['name'], 'shop')
        self.assertEqual(self.get('/apis/apps/v1/namespaces/dry/deployments/shop')[0], 404)
        last = self.get('/_emulator/requests')[1][-2]  # the apply; the 404 GET is last
        self.assertFalse(last['write'])

    def test_namespace_apply_and_merge_and_json_patch(self):
        status, ns = self.apply('/api/v1/namespaces/team', {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'team'}})
        self.assertEqual(status, 201)
        self.assertEqual(ns['status']['phase'], 'Active')
        names = [n['metadata']['name'] for n in self.get('/api/v1/namespaces')[1]['items']]
        self.assertIn('team', names)
        self.assertIn('default', names)
        status, ns = self.call('PATCH', '/api/v1/namespaces/team', {'metadata': {'labels': {'a': 'b'}}}, 'application/merge-patch+json')
        self.assertEqual((status, ns['metadata']['labels']['a']), (200, 'b'))
        status, ns = self.call('PATCH', '/api/v1/namespaces/team', [{'op': 'remove', 'path': '/metadata/labels/a'}], 'application/json-patch+json')
        self.assertEqual(status, 200)
        self.assertNotIn('a', ns['metadata']['labels'])
        status, err = self.call('PATCH', '/api/v1/namespaces/team', {}, 'application/json')
        self.assertEqual((status, err['reason']), (415, 'UnsupportedMediaType'))
        status, err = self.call('PATCH', '/api/v1/namespaces/nope', {}, 'application/merge-patch+json')
        self.assertEqual((status, err['reason'], err['message']), (404, 'NotFound', 'namespaces "nope" not found'))

    # --- controller scenarios ---

    def test_healthy_rollout(self):
        self.scenario('healthy')
        self.apply('/api/v1/namespaces/ok/services/shop', service('shop'))
        started = self.get('/_emulator/requests')[1][-1]['time']
        self.deploy('ok', 'shop', replicas=2)

        def complete():
            d = self.get('/apis/apps/v1/namespaces/ok/deployments/shop')[1]
            s = d.get('status', {})
            return s.get('observedGeneration') == d['metadata']['generation'] and s.get('availableReplicas') == 2 and d
        d = self.eventually(complete)
        s = d['status']
        self.assertEqual((s['replicas'], s['updatedReplicas'], s['readyReplicas']), (2, 2, 2))
        self.assertEqual({c['type']: c['reason'] for c in s['conditions']}['Progressing'], 'NewReplicaSetAvailable')
        available = self.get('/_emulator/available')[1]['deployments/ok/shop']
        self.assertGreaterEqual(available, started + DELAY_MS / 1000)

        pods = self.pods('ok', 'app%3Dshop')
        self.assertEqual(len(pods), 2)
        for pod in pods:
            self.assertRegex(pod['metadata']['name'], r'^shop-[a-z0-9]{10}-[a-z0-9]{5}$')
            self.assertEqual(pod['status']['phase'], 'Running')
            self.assertTrue(pod['status']['containerStatuses'][0]['ready'])
            self.assertIn('running', pod['status']['containerStatuses'][0]['state'])
        self.assertEqual(self.pods('ok', 'app%3Dother'), [])

        slices = self.get('/apis/discovery.k8s.io/v1/namespaces/ok/endpointslices?labelSelector=kubernetes.io/service-name%3Dshop')[1]['items']
        self.assertEqual(len(slices), 1)
        self.assertEqual([e['conditions']['ready'] for e in slices[0]['endpoints']], [True, True])
        self.assertEqual(slices[0]['ports'][0]['port'], 8000)  # the named targetPort, resolved
        self.assertEqual(self.get('/api/v1/namespaces/ok/services/shop:80/proxy/health'), (200, {'status': 'ok'}))
        self.assertEqual(self.get('/api/v1/namespaces/ok/services/shop/proxy/ready'), (200, {'status': 'ready', 'database': 'ok'}))

        # Scaling keeps the running pods and adds one.
        self.deploy('ok', 'shop', replicas=3)
        self.eventually(lambda: self.get('/apis/apps/v1/namespaces/ok/deployments/shop')[1]['status'].get('availableReplicas') == 3)
        names = {p['metadata']['name'] for p in self.pods('ok', 'app%3Dshop')}
        self.assertEqual(len(names), 3)
        self.assertLessEqual({p['metadata']['name'] for p in pods}, names)

        log = self.get(f'/api/v1/namespaces/ok/pods/{pods[0]["metadata"]["name"]}/log')[1]
        self.assertIn('Application startup complete.', log)

        # Deleting the Deployment deletes its ReplicaSet and pods (the garbage collector).
        self.assertEqual(self.call('DELETE', '/apis/apps/v1/namespaces/ok/deployments/shop')[0], 200)
        self.assertEqual(self.pods('ok', 'app%3Dshop'), [])

    def test_the_strategy_decides_how_many_old_pods_stop_at_once(self):
        self.scenario('healthy')
        ready = lambda ns: sum(1 for p in self.pods(ns, 'app%3Dshop') if p['status'].get('containerStatuses', [{}])[0].get('ready'))
        for ns, strategy, replicas, stopping in [
            ('rolling', {'type': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': 0, 'maxSurge': 1}}, 2, 0),
            ('defaults', None, 4, 1),  # 25 % of 4
            ('recreate', {'type': 'Recreate'}, 2, 2),
        ]:
            self.apply(f'/api/v1/namespaces/{ns}/services/shop', service('shop'))
            body = deployment('shop', replicas=replicas)
            if strategy:
                body['spec']['strategy'] = strategy
            self.apply(f'/apis/apps/v1/namespaces/{ns}/deployments/shop', body)
            self.eventually(lambda: ready(ns) == replicas)
            body['spec']['template']['spec']['containers'][0]['image'] = 'shop:0.2.0'
            self.apply(f'/apis/apps/v1/namespaces/{ns}/deployments/shop', body)
            # Right after the write, before the new pods are ready: the old ones that are left.
            self.assertEqual(ready(ns), replicas - stopping, ns)
            answer = self.get(f'/api/v1/namespaces/{ns}/services/shop/proxy/ready')[0]
            self.assertEqual(answer, 503 if stopping == replicas else 200, ns)
            self.eventually(lambda: ready(ns) == replicas)

    def test_stale_status_comes_first(self):
        self.scenario('stale')
        self.deploy('stale', 'shop')
        first = self.get('/apis/apps/v1/namespaces/stale/deployments/shop')[1]['status']
        self.assertNotIn('observedGeneration', first)
        self.assertEqual((first['replicas'], first['updatedReplicas'], first['availableReplicas']), (1, 1, 1))
        self.eventually(lambda: self.get('/apis/apps/v1/namespaces/stale/deployments/shop')[1]['status'].get('observedGeneration') == 1)
        second = self.deploy('stale', 'shop', image='shop:0.2.0')
        self.assertEqual(second['metadata']['generation'], 2)
        status = self.get('/apis/apps/v1/namespaces/stale/deployments/shop')[1]['status']
        self.assertEqual(status['observedGeneration'], 1)
        self.eventually(lambda: self.get('/apis/apps/v1/namespaces/stale/deployments/shop')[1]['status'].get('observedGeneration') == 2)
        self.scenario('healthy')

    def test_never_stays_unavailable_and_proxy_answers_503(self):
        self.scenario('never')
        self.apply('/api/v1/namespaces/never/services/shop', service('shop'))
        self.deploy('never', 'shop')
        time.sleep(DELAY_MS / 1000 + 0.3)
        status = self.get('/apis/apps/v1/namespaces/never/deployments/shop')[1]['status']
        self.assertEqual((status['observedGeneration'], status['availableReplicas'], status['unavailableReplicas']), (1, 0, 1))
        code, body = self.get('/api/v1/namespaces/never/services/shop/proxy/health')
        self.assertEqual((code, body['message']), (503, 'no endpoints available for service "shop"'))
        self.assertNotIn('deployments/never/shop', self.get('/_emulator/available')[1])
        # The controller gives up after progressDeadlineSeconds.
        body = deployment('shop')
        body['spec']['progressDeadlineSeconds'] = 1
        self.apply('/apis/apps/v1/namespaces/never/deployments/shop', body)

        def gave_up():
            conditions = self.get('/apis/apps/v1/namespaces/never/deployments/shop')[1]['status']['conditions']
            return {c['type']: c.get('reason') for c in conditions}['Progressing'] == 'ProgressDeadlineExceeded'
        self.eventually(gave_up)
        self.scenario('healthy')

    def test_crashloop_pod_events_and_log(self):
        self.scenario('crashloop')
        self.deploy('crash', 'shop')

        def crashing():
            pods = self.pods('crash', 'app%3Dshop')
            return pods and 'waiting' in pods[0]['status']['containerStatuses'][0]['state'] and \
                pods[0]['status']['containerStatuses'][0]['state']['waiting']['reason'] == 'CrashLoopBackOff' and pods[0]
        pod = self.eventually(crashing)
        cs = pod['status']['containerStatuses'][0]
        self.assertEqual(cs['restartCount'], 5)
        self.assertEqual((cs['lastState']['terminated']['exitCode'], cs['lastState']['terminated']['reason']), (1, 'Error'))
        name = pod['metadata']['name']
        events = self.events_for('crash', name)
        self.assertEqual([(e['type'], e['reason']) for e in events], [('Warning', 'BackOff')])
        self.assertEqual(events[0]['involvedObject']['kind'], 'Pod')
        self.assertEqual(events[0]['involvedObject']['namespace'], 'crash')
        log = self.get(f'/api/v1/namespaces/crash/pods/{name}/log?previous=true&tailLines=1')[1]
        self.assertEqual(log, 'sqlalchemy.exc.OperationalError: could not translate host name "shop-postgres" to address\n')
        self.assertIn('Traceback (most recent call last):', self.get(f'/api/v1/namespaces/crash/pods/{name}/log?previous=true')[1])
        self.assertEqual(self.get('/apis/apps/v1/namespaces/crash/deployments/shop')[1]['status']['availableReplicas'], 0)
        self.scenario('healthy')

    def test_image_pull_backoff_and_missing_secret_key(self):
        self.scenario('image-pull-backoff')
        self.deploy('pull', 'shop')
        pod = self.eventually(lambda: (self.pods('pull', 'app%3Dshop') or [None])[0] if self.events_for('pull', self.pods('pull', 'app%3Dshop')[0]['metadata']['name']) else None)
        waiting = pod['status']['containerStatuses'][0]['state']['waiting']
        self.assertEqual(waiting, {'reason': 'ImagePullBackOff', 'message': 'Back-off pulling image "shop:0.1.0"'})
        messages = [e['message'] for e in self.events_for('pull', pod['metadata']['name']) if e['type'] == 'Warning']
        self.assertIn('Failed to pull image "shop:0.1.0": rpc error: code = NotFound desc = failed to pull and unpack image '
                      '"shop:0.1.0": failed to resolve reference "shop:0.1.0": shop:0.1.0: not found', messages)
        # The same events through events.k8s.io/v1.
        new_api = self.get(f'/apis/events.k8s.io/v1/namespaces/pull/events?fieldSelector=regarding.name%3D{pod["metadata"]["name"]}')[1]['items']
        self.assertIn('Back-off pulling image "shop:0.1.0"', [e['note'] for e in new_api])

        self.scenario('missing-secret-key')
        env = [{'name': 'JWT_SECRET', 'valueFrom': {'secretKeyRef': {'name': 'shop-secrets', 'key': 'JWT_SECRET'}}}]
        self.deploy('secret', 'shop', env=env)
        message = "couldn't find key JWT_SECRET in Secret secret/shop-secrets"
        self.eventually(lambda: [e for e in self.get('/api/v1/namespaces/secret/events')[1]['items'] if e['message'] == f'Error: {message}'])
        waiting = self.pods('secret', 'app%3Dshop')[0]['status']['containerStatuses'][0]['state']['waiting']
        self.assertEqual(waiting, {'reason': 'CreateContainerConfigError', 'message': message})
        self.scenario('healthy')

    def test_pending_pvc_statefulset(self):
        self.scenario('pending-pvc')
        sts = {
            'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 'shop-postgres'},
            'spec': {
                'replicas': 1, 'serviceName': 'shop-postgres', 'selector': {'matchLabels': {'app': 'shop-postgres'}},
                'template': {'metadata': {'labels': {'app': 'shop-postgres'}}, 'spec': {'containers': [{'name': 'postgres', 'image': 'postgres:16'}]}},
                'volumeClaimTemplates': [{'metadata': {'name': 'data'}, 'spec': {'accessModes': ['ReadWriteOnce'], 'resources': {'requests': {'storage': '1Gi'}}}}],
            },
        }
        self.assertEqual(self.apply('/apis/apps/v1/namespaces/pvc/statefulsets/shop-postgres', sts)[0], 201)
        events = self.eventually(lambda: [e for e in self.events_for('pvc', 'shop-postgres-0') if e['reason'] == 'FailedScheduling'])
        self.assertEqual(events[0]['message'], '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.')
        pod = self.get('/api/v1/namespaces/pvc/pods/shop-postgres-0')[1]
        self.assertEqual(pod['status']['phase'], 'Pending')
        self.assertEqual(pod['status']['conditions'][0]['reason'], 'Unschedulable')
        self.assertEqual(self.get('/api/v1/namespaces/pvc/persistentvolumeclaims/data-shop-postgres-0')[1]['status']['phase'], 'Pending')
        self.scenario('healthy')

    # --- watch, request log, port-forward ---

    def test_watch_sees_the_status_change(self):
        self.scenario('healthy')
        created = self.deploy('watch', 'shop')
        rv = created['metadata']['resourceVersion']
        url = f'{self.base}/apis/apps/v1/namespaces/watch/deployments?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dshop&timeoutSeconds=3'
        seen = []
        with urllib.request.urlopen(url, timeout=10) as resp:
            for line in resp:
                event = json.loads(line)
                seen.append(event)
                if event['object'].get('status', {}).get('availableReplicas') == 1:
                    break
        self.assertTrue(all(e['type'] == 'MODIFIED' and e['object']['metadata']['name'] == 'shop' for e in seen), seen)
        self.assertEqual(seen[-1]['object']['status']['observedGeneration'], 1)

    def test_request_log(self):
        self.assertEqual(self.call('DELETE', '/_emulator/requests')[0], 200)
        self.apply('/api/v1/namespaces/log/configmaps/c', {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c'}, 'data': {'a': '1'}})
        self.get('/api/v1/namespaces/log/configmaps/c')
        log = self.get('/_emulator/requests')[1]
        self.assertEqual([(r['method'], r['write']) for r in log], [('PATCH', True), ('GET', False)])
        self.assertEqual(log[0]['path'], '/api/v1/namespaces/log/configmaps/c' + SSA)
        self.assertEqual(log[0]['content_type'], APPLY)
        self.assertEqual(log[0]['status'], 201)
        self.assertLessEqual(log[0]['time'], log[1]['time'])

    def test_port_forward(self):
        self.scenario('healthy')
        self.deploy('pf', 'shop')
        pod = self.eventually(lambda: [p for p in self.pods('pf', 'app%3Dshop') if p['status']['phase'] == 'Running'])[0]
        url = f'{self.base}/api/v1/namespaces/pf/pods/{pod["metadata"]["name"]}/portforward?ports=8000'

        async def forward():
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(url, protocols=('v5.channel.k8s.io', 'v4.channel.k8s.io')) as ws:
                    self.assertEqual(ws.protocol, 'v4.channel.k8s.io')
                    self.assertEqual((await ws.receive_bytes(), await ws.receive_bytes()), (b'\x00\x40\x1f', b'\x01\x40\x1f'))
                    await ws.send_bytes(b'\x00GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
                    data = b''
                    while (msg := await ws.receive(timeout=5)).type == aiohttp.WSMsgType.BINARY:
                        self.assertEqual(msg.data[0], 0)
                        data += msg.data[1:]
                    # The app closed the connection (Connection: close): the WebSocket closes too.
                    self.assertEqual(msg.type, aiohttp.WSMsgType.CLOSE)
                    return data.decode()

        response = asyncio.run(forward())
        self.assertTrue(response.startswith('HTTP/1.1 200 OK'), response)
        self.assertTrue(response.endswith('{"status": "ready", "database": "ok"}'), response)


class StrictNamespacesTest(EmulatorCase):
    ARGS = ['--strict-namespaces']

    def test_writes_into_a_missing_namespace_fail(self):
        configmap = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c'}}
        status, err = self.apply('/api/v1/namespaces/strict/configmaps/c', configmap)
        self.assertEqual((status, err['message']), (404, 'namespaces "strict" not found'))
        self.assertEqual(self.apply('/api/v1/namespaces/strict', {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'strict'}})[0], 201)
        self.assertEqual(self.apply('/api/v1/namespaces/strict/configmaps/c', configmap)[0], 201)


if __name__ == '__main__':
    unittest.main()
