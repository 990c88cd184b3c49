import { Module } from '@nestjs/common';
import { TokenMinter } from './token-minter';
import { TokensController } from './tokens.controller';

@Module({ controllers: [TokensController], providers: [TokenMinter], exports: [TokenMinter] })
export class TokensModule {}
