//go:build !linux

package zookeeper

import (
	"os"
	"syscall"
)

var sigterm = os.Interrupt

func sysProcAttr() *syscall.SysProcAttr { return nil }
