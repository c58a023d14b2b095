import { Module } from '@nestjs/common';
import { RetentionRepository } from './retention.repository';
import { RetentionSweepUseCase } from './retention-sweep.usecase';
import { RetentionWorker } from './retention.worker';
import { SweepLock } from './sweep-lock';

/** Deletes messages past their retention (docs/protocol.md §5.7); DataSource and AppConfig are global. */
@Module({ providers: [RetentionRepository, SweepLock, RetentionSweepUseCase, RetentionWorker] })
export class RetentionModule {}
