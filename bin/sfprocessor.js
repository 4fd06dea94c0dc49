#!/usr/bin/env node
import "../dist/bundle/sfprocessor.js"
