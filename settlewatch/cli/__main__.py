from settlewatch.cli import main

main()
