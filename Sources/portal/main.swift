// The `portal` command line: parsing and dispatch only; the work lives in the modules.
#if canImport(Glibc)
    import Glibc
#endif

exit(PortalCLI.run(Array(CommandLine.arguments.dropFirst())))
