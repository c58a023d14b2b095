import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { bootstrapService } from '@im/health';
import { OutageFilter } from './admin/outage.filter';
import { WsEndpoint } from './connections/ws-endpoint';
import { GatewayModule } from './gateway.module';

void bootstrapService(
  'gateway',
  GatewayModule,
  (config) => config.GATEWAY_PORT,
  (app) => {
    // Room for the admin API's largest bodies: 10,000 member ids, 100,000 broadcast recipients.
    (app as NestExpressApplication).useBodyParser('json', { limit: '4mb' });
    app.useGlobalPipes(
      new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        exceptionFactory: (errors) =>
          new BadRequestException(
            errors
              .flatMap((e) => Object.values(e.constraints ?? {}))
              .map((m) => m.replace(/^property (\S+) should not exist$/, 'unknown field $1'))
              .join('; '),
          ),
      }),
    );
    app.useGlobalFilters(new OutageFilter(app.get(HttpAdapterHost).httpAdapter));
    const openApi = new DocumentBuilder()
      .setTitle('Chat delivery backend: admin API')
      .setDescription(
        'Every call needs Authorization: Bearer <ADMIN_TOKEN>. The WebSocket protocol and this API are described in docs/protocol.md.',
      )
      .addBearerAuth()
      .build();
    SwaggerModule.setup('admin/docs', app, () => SwaggerModule.createDocument(app, openApi), {
      jsonDocumentUrl: 'admin/docs/json',
    });
    app.get(WsEndpoint).attach(app.getHttpServer());
  },
);
