#!/usr/bin/python3
"""Fixtures for the data-pipeline tests (test/data_*.test.ts), written with PIL 9.4 and
torchvision 0.14 (Debian's python3-pil / python3-torchvision; run with /usr/bin/python3).

Writes test/fixtures/data/:
  photos/*.{jpg,png,webp}     generated "photographs" (gradients, shapes, noise) of typical sizes
  photos/*.eval.npy           torchvision eval preprocessing up to ToTensor, as uint8 HWC
                              (Resize(256) + CenterCrop(224); ToTensor is an exact /255, so the
                              float tensor is these bytes / 255 and Normalize is exact arithmetic)
  photos/*.resize.npy         Resize((37, 53)) and Resize((301, 411)) of the first photo (PIL bilinear
  photos/*.resized_crop.npy   torchvision's F.resized_crop of street.jpg (box 37,21 201x150 -> 224x224,
                              and 300,10 7x9 -> 64x48): the crop is cut first, then resized
                              with antialias), to test the resampler directly in both directions
  unusual/*                   valid but unusual images and PIL's convert("RGB") of each (*.rgb.npy)
  broken/*                    broken files, one per kind (the unreadable file and the empty class
                              folder are made by the test at run time: git keeps neither)
"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw
import torch
from torchvision import transforms

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'data')
rng = np.random.default_rng(20120)


def scene(w, h):
    """A smooth sky/ground gradient with a few filled shapes and sensor-like noise."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (y / h)[..., None]
    img[:] = c0 * (1 - t) + c1 * t
    img += 40 * np.sin(x / rng.uniform(8, 40))[..., None] * rng.uniform(-1, 1, 3)
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(8):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        x1, y1 = x0 + rng.uniform(10, w / 2), y0 + rng.uniform(10, h / 2)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.uniform() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=fill)
        else:
            draw.rectangle([x0, y0, x1, y1], fill=fill)
    arr = np.asarray(pil).astype(np.float32) + rng.normal(0, 6, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr))


def png_chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)


def png16_rgb(arr16):
    """A 16-bit RGB PNG (PIL cannot write one)."""
    h, w, _ = arr16.shape
    raw = b''.join(b'\x00' + arr16[r].astype('>u2').tobytes() for r in range(h))
    ihdr = struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) + png_chunk(b'IDAT', zlib.compress(raw)) + png_chunk(b'IEND', b'')


def bomb_png(w, h):
    """A PNG whose header declares w x h pixels, with a few bytes of data (a decompression bomb)."""
    ihdr = struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)
    idat = zlib.compress(b'\x00' * 4096)
    return b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) + png_chunk(b'IDAT', idat) + png_chunk(b'IEND', b'')


def photos():
    out = os.path.join(ROOT, 'photos')
    os.makedirs(out, exist_ok=True)
    evaluate = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    specs = [('street.jpg', 500, 375, 'JPEG'), ('portrait.png', 375, 500, 'PNG'),
             ('wide.jpg', 640, 427, 'JPEG'), ('small.webp', 300, 200, 'WEBP')]
    for name, w, h, fmt in specs:
        path = os.path.join(out, name)
        kwargs = {'quality': 90} if fmt in ('JPEG', 'WEBP') else {}
        scene(w, h).save(path, fmt, **kwargs)
        img = Image.open(path).convert('RGB')
        got = np.asarray(evaluate(img))
        # ToTensor is bytes / 255: check that the uint8 fixture is the float tensor exactly.
        tensor = transforms.ToTensor()(evaluate(img))
        assert torch.equal(tensor, torch.from_numpy(got).permute(2, 0, 1).float() / 255)
        save_npy(path + '.eval.npy', got)
    first = Image.open(os.path.join(out, 'street.jpg')).convert('RGB')
    for (h, w) in [(37, 53), (301, 411)]:
        save_npy(os.path.join(out, f'street.jpg.resize{h}x{w}.npy'), np.asarray(transforms.Resize((h, w))(first)))


def resized_crops():
    """RandomResizedCrop's resize step on fixed boxes (F.resized_crop: crop, then resize)."""
    from torchvision.transforms import functional as TF
    out = os.path.join(ROOT, 'photos')
    img = Image.open(os.path.join(out, 'street.jpg')).convert('RGB')
    for (left, top, w, h), (ow, oh) in [((37, 21, 201, 150), (224, 224)), ((300, 10, 7, 9), (64, 48))]:
        r = TF.resized_crop(img, top, left, h, w, [oh, ow], transforms.InterpolationMode.BILINEAR)
        save_npy(os.path.join(out, f'street.jpg.resized_crop{left}_{top}_{w}x{h}_{ow}x{oh}.npy'), np.asarray(r))


def unusual():
    out = os.path.join(ROOT, 'unusual')
    os.makedirs(out, exist_ok=True)
    base = scene(64, 48)
    made = {}
    base.convert('CMYK').save(os.path.join(out, 'cmyk.jpg'), 'JPEG', quality=95)
    made['cmyk.jpg'] = None
    arr16 = (np.asarray(base).astype(np.uint16) * 257 + rng.integers(0, 256, (48, 64, 3)).astype(np.uint16))
    with open(os.path.join(out, 'rgb16.png'), 'wb') as f:
        f.write(png16_rgb(arr16))
    made['rgb16.png'] = None
    rgba = base.copy()
    rgba.putalpha(Image.fromarray(rng.integers(0, 256, (48, 64)).astype(np.uint8)))
    rgba.save(os.path.join(out, 'rgba.png'))
    made['rgba.png'] = None
    base.convert('LA').save(os.path.join(out, 'gray_alpha.png'))
    made['gray_alpha.png'] = None
    base.convert('L').save(os.path.join(out, 'gray.jpg'), quality=95)
    made['gray.jpg'] = None
    base.convert('L').save(os.path.join(out, 'gray.png'))
    made['gray.png'] = None
    pal = base.convert('P', palette=Image.ADAPTIVE, colors=32)
    pal.save(os.path.join(out, 'palette.png'), transparency=3)
    made['palette.png'] = None
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    base.save(os.path.join(out, 'exif_rotated.jpg'), 'JPEG', quality=95, exif=exif.tobytes())
    made['exif_rotated.jpg'] = None
    base.save(os.path.join(out, 'photo.webp'), 'WEBP', quality=90)
    made['photo.webp'] = None
    for name in made:
        img = Image.open(os.path.join(out, name))
        rgb = np.asarray(img.convert('RGB'))
        save_npy(os.path.join(out, name + '.rgb.npy'), rgb)
        # PIL's own grayscale (ITU-R 601-2 luma on its RGB), for the grayscale option.
        save_npy(os.path.join(out, name + '.l.npy'), np.asarray(img.convert('RGB').convert('L')))
    # PIL opens a 16-bit RGB PNG as 8-bit by keeping each sample's high byte: record that too.
    assert np.array_equal(np.asarray(Image.open(os.path.join(out, 'rgb16.png')).convert('RGB')), (arr16 >> 8).astype(np.uint8))
    # A 16-bit grayscale PNG: PIL opens it as mode "I" and convert("RGB") clips every value above
    # 255 to white, which destroys the image. We keep the high byte instead, as PIL does for
    # 16-bit RGB; the expected arrays say so (a deliberate difference from PIL).
    gray16 = (np.asarray(base.convert('L')).astype(np.uint16) * 257 + 100).astype(np.uint16)
    Image.fromarray(gray16).save(os.path.join(out, 'gray16.png'))
    assert Image.open(os.path.join(out, 'gray16.png')).mode in ('I', 'I;16')
    high = (gray16 >> 8).astype(np.uint8)
    save_npy(os.path.join(out, 'gray16.png.rgb.npy'), np.dstack([high, high, high]))
    save_npy(os.path.join(out, 'gray16.png.l.npy'), high)


def broken():
    out = os.path.join(ROOT, 'broken')
    os.makedirs(out, exist_ok=True)
    good = io.BytesIO()
    scene(120, 90).save(good, 'JPEG', quality=90)
    data = good.getvalue()
    with open(os.path.join(out, 'truncated.jpg'), 'wb') as f:
        f.write(data[: len(data) // 2])
    corrupt = bytearray(data)
    corrupt[200:] = rng.integers(0, 256, len(data) - 200).astype(np.uint8).tobytes()
    with open(os.path.join(out, 'corrupt.jpg'), 'wb') as f:
        f.write(bytes(corrupt))
    open(os.path.join(out, 'empty.jpg'), 'wb').close()
    with open(os.path.join(out, 'not_an_image.png'), 'w') as f:
        f.write('this is a text file with an image extension\n')
    with open(os.path.join(out, 'bomb.png'), 'wb') as f:
        f.write(bomb_png(30000, 30000))


if __name__ == '__main__':
    import sys
    if sys.argv[1:] == ['resized-crops']:  # only these (they read the committed street.jpg)
        resized_crops()
        sys.exit(0)
    photos()
    resized_crops()
    unusual()
    broken()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f'wrote {ROOT} ({total / 1e6:.2f} MB)')
