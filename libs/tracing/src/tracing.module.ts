import { DynamicModule, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { createTracer, Tracer } from './tracer';

/** Sends the spans still queued when the service stops. */
@Injectable()
class TracerFlush implements OnApplicationShutdown {
  constructor(@Inject(Tracer) private readonly tracer: Tracer) {}
  async onApplicationShutdown() {
    await this.tracer.flush();
  }
}

/** The service's Tracer, for every module of it (docs: README, Tracing). */
export class TracingModule {
  static forService(service: string): DynamicModule {
    return {
      module: TracingModule,
      global: true,
      providers: [
        {
          provide: Tracer,
          useFactory: (config: AppConfig) => createTracer(config, service),
          inject: [AppConfig],
        },
        TracerFlush,
      ],
      exports: [Tracer],
    };
  }
}
