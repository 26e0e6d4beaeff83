"""Writes OCI image layouts for the image store's tests: each layer a list of
tar entries, as an image tool would write them, or as an attacker would."""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def entry(name, kind='file', data=b'', target=None, mode=0o644):
    t = tarfile.TarInfo(name)
    t.mode = mode
    t.mtime = 1700000000
    if kind == 'file':
        t.size = len(data)
        return t, data
    t.type = {'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE}[kind]
    if kind == 'dir':
        t.mode = mode | 0o111
    if target is not None:
        t.linkname = target
    return t, None


def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            t, data = entry(**e)
            tf.addfile(t, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def put_blob(root, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(root, 'blobs', 'sha256'), exist_ok=True)
    with open(os.path.join(root, 'blobs', 'sha256', d), 'wb') as f:
        f.write(data)
    return 'sha256:' + d


def write_layout(root, layers, gzip_layers=False, corrupt=None):
    """layers: lists of entry dicts. corrupt: 'blob' (a layer's bytes change after
    its digest is written) or 'diff_id' (the config names another content)."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, 'oci-layout'), 'w') as f:
        json.dump({'imageLayoutVersion': '1.0.0'}, f)
    descs, diff_ids = [], []
    for entries in layers:
        raw = layer_tar(entries)
        diff_ids.append('sha256:' + hashlib.sha256(raw).hexdigest())
        blob = gzip.compress(raw, mtime=0) if gzip_layers else raw
        d = put_blob(root, blob)
        descs.append({'mediaType': 'application/vnd.oci.image.layer.v1.tar' +
                      ('+gzip' if gzip_layers else ''), 'digest': d, 'size': len(blob)})
    if corrupt == 'blob':
        p = os.path.join(root, 'blobs', 'sha256', descs[-1]['digest'][7:])
        with open(p, 'ab') as f:
            f.write(b'\0' * 1024)
    if corrupt == 'diff_id':
        diff_ids[-1] = 'sha256:' + hashlib.sha256(b'something else').hexdigest()
    config = json.dumps({'architecture': 'amd64', 'os': 'linux',
                         'rootfs': {'type': 'layers', 'diff_ids': diff_ids}}).encode()
    cd = put_blob(root, config)
    manifest = json.dumps({'schemaVersion': 2,
                           'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                           'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                                      'digest': cd, 'size': len(config)},
                           'layers': descs}).encode()
    md = put_blob(root, manifest)
    with open(os.path.join(root, 'index.json'), 'w') as f:
        json.dump({'schemaVersion': 2, 'manifests': [
            {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': md,
             'size': len(manifest)}]}, f)
    return diff_ids


if __name__ == '__main__':
    # oci_layout.py DIR JSON: JSON is {"layers": [[entry, ...], ...], "gzip": bool, "corrupt": ...}
    spec = json.loads(sys.argv[2])
    for layer in spec['layers']:
        for e in layer:
            if 'data' in e:
                e['data'] = e['data'].encode()
    ids = write_layout(sys.argv[1], spec['layers'], spec.get('gzip', False), spec.get('corrupt'))
    print(' '.join(i[7:] for i in ids))
