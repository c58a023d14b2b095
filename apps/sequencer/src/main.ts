import 'reflect-metadata';
import { bootstrapService } from '@im/health';
import { SequencerModule } from './sequencer.module';

void bootstrapService('sequencer', SequencerModule, (config) => config.SEQUENCER_PORT);
