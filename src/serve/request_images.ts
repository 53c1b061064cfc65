// The images of a request: the raw body (any content type but multipart), or each file part of a
// multipart/form-data body, with the name each is answered under. The total size is bounded by
// --max-body either way (the raw body by fastify's bodyLimit, parts here) and so is the count.
import type { FastifyRequest } from 'fastify';
import { HttpError } from './http_errors.js';

export interface RequestImage {
  /** The part's file name (or field name), 'body' for a raw body. */
  name: string;
  bytes: Uint8Array;
}

/** The images in `request`, at most `maxImages` and `maxBytes` in all. */
export async function requestImages(request: FastifyRequest, maxImages: number, maxBytes: number): Promise<RequestImage[]> {
  if (!request.isMultipart()) {
    const body = request.body;
    if (body === undefined || body === null || (body instanceof Uint8Array && body.length === 0))
      throw new HttpError(415, 'empty', 'empty body: send the image bytes, or multipart/form-data with image files');
    if (!(body instanceof Uint8Array)) throw new Error('request body was not read as bytes');
    return [{ name: 'body', bytes: body }];
  }
  const images: RequestImage[] = [];
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    if (images.length >= maxImages)
      throw new HttpError(
        413,
        'too-many-images',
        maxImages === 1 ? 'one image per request here: send several to /v1/predict/batch' : `more than ${maxImages} images in one request`,
      );
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (total > maxBytes) throw new HttpError(413, 'body-too-large', `the images add up to more than --max-body ${maxBytes} bytes`);
    const name = part.filename || part.fieldname || `part ${images.length + 1}`;
    if (bytes.length === 0) throw new HttpError(415, 'empty', `${name}: empty file`);
    images.push({ name, bytes });
  }
  if (images.length === 0) throw new HttpError(415, 'empty', 'the multipart body holds no file');
  return images;
}
