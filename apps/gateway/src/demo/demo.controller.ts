import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, NotFoundException } from '@nestjs/common';

/** Built by `npm run build` (esbuild) into dist/demo; see apps/gateway/demo-app. */
const DEMO_DIR = join(__dirname, '..', '..', '..', '..', 'demo');

const read = (file: string): string => {
  const path = join(DEMO_DIR, file);
  if (!existsSync(path)) throw new NotFoundException('the demo is not built; run npm run build');
  return readFileSync(path, 'utf8');
};

/** The browser demo: a chat page built on the client SDK. */
@Controller('demo')
export class DemoController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return read('index.html');
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return read('app.js');
  }
}
