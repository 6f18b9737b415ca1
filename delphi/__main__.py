from delphi.cli import main

main()
