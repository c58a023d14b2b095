import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { AdminGuard } from './admin.guard';
import { BroadcastDto } from './admin.dto';
import { BroadcastService } from './broadcast/broadcast.service';

@Controller('admin/broadcasts')
@UseGuards(AdminGuard)
@ApiTags('admin')
@ApiBearerAuth()
export class BroadcastsController {
  constructor(private readonly broadcasts: BroadcastService) {}

  @Post()
  @HttpCode(202)
  async start(@Body() dto: BroadcastDto) {
    return { id: await this.broadcasts.start([...new Set(dto.userIds)], dto.body) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const status = await this.broadcasts.status(id);
    if (!status) throw new NotFoundException(`broadcast ${id} not found`);
    return status;
  }
}
